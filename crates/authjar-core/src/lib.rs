//! `authjar-core`: the auth rules — accounts, password hashing, access and
//! refresh tokens, sessions — with no HTTP and no SQL. Storage is the
//! [`Store`] trait; time and randomness are injected ([`Clock`], [`Random`]).

pub mod budgets;
pub mod clock;
pub mod csrf;
pub mod email;
pub mod keys;
pub mod mail;
pub mod memory;
pub mod name;
pub mod password;
pub mod random;
pub mod records;
pub mod revocation;
mod rows;
pub mod sealed;
pub mod service;
pub mod store;
pub mod tokens;
mod verified;

pub use budgets::{Budget, SharedBudgets};
pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use csrf::{Binding, CsrfError, CsrfTokens};
pub use email::{Email, EmailError};
pub use keys::{KeyError, KeyRing};
pub use mail::{Letter, MailError, MailQueue, Mailer, Messages};
pub use memory::MemoryStore;
pub use password::{
    BoundedHasher, HashError, HashParams, HasherError, InvalidHashParams, Password, PasswordError,
};
pub use random::{OsRandom, Random};
pub use records::{
    ClientMeta, EmailToken, HandoffCode, RefreshMatch, Session, TokenPurpose, User, UserRecord,
};
pub use sealed::{SealError, Sealer};
pub use service::{
    AccountSettings, AuthError, AuthService, ExternalIdentity, Issued, MailSetup, Registration,
    RevocationFeed, SessionSettings,
};
pub use store::{RefreshHash, RevocationEvent, Store, StoreError};
pub use tokens::{AccessClaims, AccessTokens, SigningError, TokenError};
