// Types for authjar's browser client (/auth/client.js).

/** An account. */
export interface User {
  id: string;
  email: string;
  name: string | null;
  created_at: string;
  /** The person proved they own `email`. */
  email_verified: boolean;
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
  /** `page_origin_not_allowed` only: this page's origin, the allowed app origins, and authjar's diagnostics page. */
  readonly pageOrigin?: string;
  readonly allowedOrigins?: string[];
  readonly debugUrl?: string;
}

/**
 * authjar's diagnostics page (`GET /auth/debug`) for this page. When the
 * page's origin is not an allowed app origin, every call fails with an
 * AuthError of code `page_origin_not_allowed` naming the origins and the fix.
 */
export declare const debugUrl: string;

/** The URL of the authjar server this module was loaded from. */
export declare const authjarUrl: string;

/** Names your API's origins: authFetch sends them cookies and the CSRF token and refreshes on their 401s. */
export declare function configure(options: { apiOrigins?: string[] }): void;

/**
 * `fetch` for authjar and the configured API origins: cookies, the CSRF
 * header on unsafe methods, one retry after a CSRF refusal or a 401 (which
 * refreshes first); never more than two sends. Other URLs: a plain fetch.
 */
export declare function authFetch(url: string | URL, init?: RequestInit): Promise<Response>;

/** Refreshes the session (single-flight, coordinated across tabs); true on success. */
export declare function refresh(since?: number): Promise<boolean>;

/** Creates an account; logged in at once unless the server requires a verified e-mail first. */
export declare function register(input: { email: string; password: string; name?: string }): Promise<User>;
export declare function requestEmailVerification(email: string): Promise<void>;
export declare function confirmEmail(token: string): Promise<User>;
export declare function forgotPassword(email: string): Promise<void>;
/** Every session ends: log in next. */
export declare function resetPassword(token: string, password: string): Promise<void>;
/** This session stays; every other one ends. */
export declare function changePassword(input: { currentPassword?: string; newPassword: string }): Promise<void>;
export declare function deleteAccount(input?: { password?: string }): Promise<void>;
/** The e-mail link this page was opened with (`#verify_email=` / `#reset_password=`), removed from the address bar. */
export declare function emailLink(): { action: 'verify_email' | 'reset_password'; token: string } | null;
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

/**
 * Finishes a social login (`#auth_code=` / `?auth_error=` on this page) with
 * the verifier this tab kept in loginUrl(); the user or null. Call it first.
 */
export declare function completeOAuthLogin(): Promise<User | null>;
export declare function providers(): Promise<Provider[]>;
/** The start URL for `provider`, bound to this tab (navigate to it from this tab). */
export declare function loginUrl(provider: Provider, returnTo?: string): Promise<string>;
