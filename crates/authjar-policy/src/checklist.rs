//! The source post's pre-deploy checklist as data: each item, the finding
//! ids that mean it fails, and what "passing" reads like. `authjar check`
//! prints it in this order with ✓/✗/⚠.

use crate::findings::ids;

/// One checklist item.
#[derive(Debug, Clone, Copy)]
pub struct ChecklistItem {
    /// What holds when no finding of `ids` is present.
    pub title: &'static str,
    /// The findings that fail this item.
    pub ids: &'static [&'static str],
}

/// The checklist, in the post's order (its "Coffee refilled" left to the reader).
pub const CHECKLIST: &[ChecklistItem] = &[
    ChecklistItem {
        title: "cookie Domain is only set on purpose, never to localhost or a public suffix",
        ids: &[
            ids::COOKIE_DOMAIN_LOCALHOST,
            ids::COOKIE_DOMAIN_PUBLIC_SUFFIX,
            ids::COOKIE_DOMAIN_MISMATCH,
        ],
    },
    ChecklistItem {
        title: "cookies are Secure in production (https public_url)",
        ids: &[
            ids::HTTP_PUBLIC_URL_IN_PRODUCTION,
            ids::SECURE_COOKIE_OVER_HTTP,
            ids::HOST_PREFIX_INVALID,
            ids::SECURE_PREFIX_INVALID,
        ],
    },
    ChecklistItem {
        title: "SameSite fits the topology (derived, not switched by environment)",
        ids: &[
            ids::SAMESITE_NONE_WITHOUT_SECURE,
            ids::CROSS_SITE_THIRD_PARTY_COOKIES,
            ids::LOCALHOST_VS_127_MIXED,
            ids::PSL_HOSTING_DOMAIN,
        ],
    },
    ChecklistItem {
        title: "CORS allows the real frontend origins exactly",
        ids: &[
            ids::WILDCARD_ORIGIN_WITH_CREDENTIALS,
            ids::LOCALHOST_ORIGIN_IN_PRODUCTION,
            ids::INSECURE_APP_ORIGIN,
            ids::CORS_WILDCARD_WITH_CREDENTIALS,
            ids::CORS_TRAILING_SLASH_ORIGIN,
            ids::CORS_ORIGIN_NOT_ECHOED,
            ids::CORS_CREDENTIALS_NOT_ALLOWED,
            ids::CORS_PREFLIGHT_REFUSED,
            ids::CORS_CSRF_HEADER_NOT_ALLOWED,
            ids::CORS_CONTENT_TYPE_NOT_ALLOWED,
            ids::CORS_MISSING_VARY_ORIGIN,
            ids::CORS_MISSING_ON_ERROR_RESPONSES,
            ids::CORS_FOREIGN_ORIGIN_ECHOED,
        ],
    },
    ChecklistItem {
        title: "OAuth redirect URLs derive from public_url and point at production",
        ids: &[
            ids::LOCALHOST_PUBLIC_URL_IN_PRODUCTION,
            ids::OAUTH_REDIRECT_URI_LOCALHOST,
            ids::OAUTH_REDIRECT_URI_HTTP,
            ids::OAUTH_REDIRECT_URI_MISMATCH,
            ids::OAUTH_START_FAILED,
            ids::OAUTH_STATE_COOKIE_NOT_SENT,
        ],
    },
    ChecklistItem {
        title: "the browser stores and sends every session cookie on the app's credentialed fetch",
        ids: &[
            ids::COOKIE_NOT_STORED,
            ids::COOKIE_NOT_SENT,
            ids::COOKIE_TOO_LARGE,
            ids::LOGIN_SETS_NO_COOKIES,
        ],
    },
    ChecklistItem {
        title: "cookie lifetimes survive a browser restart and stay within 400 days",
        ids: &[ids::LIFETIME_OVER_400_DAYS, ids::SESSION_ONLY_COOKIE],
    },
    ChecklistItem {
        title: "signing and CSRF keys come from a configured secret",
        ids: &[
            ids::SECRET_MISSING_IN_PRODUCTION,
            ids::SECRET_FILE_GENERATED,
        ],
    },
    ChecklistItem {
        title: "HTTPS is tested locally with production-like names",
        ids: &[ids::HTTP_FAKE_DOMAIN],
    },
];
