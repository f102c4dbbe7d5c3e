// Types for authjar's browser client (/auth/client.js).

/** An account. */
export interface User {
  id: string;
  email: string;
  name: string | null;
  created_at: string;
}

/** A login session. */
export interface Session {
  id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

/** An error answer from authjar; `code` is its stable error code. */
export declare class AuthError extends Error {
  readonly status: number;
  readonly code: string;
}

/** The URL of the authjar server this module was loaded from. */
export declare const authjarUrl: string;

/** `fetch` with cookies, the CSRF header on unsafe methods, and one refresh + retry on 401. */
export declare function authFetch(url: string | URL, init?: RequestInit): Promise<Response>;

/** Refreshes the session (single-flight, coordinated across tabs); true on success. */
export declare function refresh(since?: number): Promise<boolean>;

export declare function register(input: { email: string; password: string; name?: string }): Promise<User>;
export declare function login(input: { email: string; password: string }): Promise<User>;
export declare function logout(): Promise<void>;
export declare function me(): Promise<{ user: User; session: Session } | null>;

/** The current CSRF token, for forms of your own. */
export declare function csrfTokenValue(): Promise<string>;

/** Calls `fn` on 'login', 'refresh' and 'logout'; returns an unsubscribe function. */
export declare function onAuthChange(fn: (event: 'login' | 'refresh' | 'logout') => void): () => void;

/** A configured social-login provider. */
export interface Provider {
  id: string;
  name: string;
  start_url: string;
}

/** Finishes a social login (`?auth_code=` / `?auth_error=` on this page); the user or null. */
export declare function completeOAuthLogin(): Promise<User | null>;
export declare function providers(): Promise<Provider[]>;
export declare function loginUrl(provider: Provider, returnTo?: string): string;
