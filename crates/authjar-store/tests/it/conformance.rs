//! The `Store` conformance suite. Each backend runs every check on a fresh database.

use std::sync::Arc;

use authjar_core::store::{RefreshHash, Store, StoreError};
use authjar_core::{Email, EmailToken, RefreshMatch, Session, TokenPurpose, User};
use authjar_store::SqliteStore;
use authjar_testdb::PgDatabase;
use uuid::Uuid;

fn user(email: &str) -> User {
    User {
        id: Uuid::new_v4(),
        email: Email::parse(email).unwrap(),
        name: Some("Cat".into()),
        created_at: 100,
        email_verified_at: None,
    }
}

fn session(user: &User, at: i64) -> Session {
    Session {
        id: Uuid::new_v4(),
        user_id: user.id,
        created_at: at,
        last_seen_at: at,
        expires_at: at + 1000,
        rotated_at: None,
        revoked_at: None,
        user_agent: Some("test".into()),
        ip: Some("127.0.0.1".into()),
    }
}

fn h(b: u8) -> RefreshHash {
    [b; 32]
}

async fn users_are_unique_by_email(store: &dyn Store) {
    let u = user("a@b.com");
    store.insert_user(&u, Some("$argon2id$x")).await.unwrap();
    let dup = User {
        id: Uuid::new_v4(),
        ..user("a@b.com")
    };
    assert!(matches!(
        store.insert_user(&dup, None).await,
        Err(StoreError::EmailTaken)
    ));
    let rec = store.user_by_email(&u.email).await.unwrap().unwrap();
    assert_eq!(rec.user, u);
    assert_eq!(rec.password_hash.as_deref(), Some("$argon2id$x"));
    assert_eq!(store.user_by_id(u.id).await.unwrap(), Some(u));
    assert!(store
        .user_by_email(&Email::parse("nobody@b.com").unwrap())
        .await
        .unwrap()
        .is_none());
}

async fn pruning_removes_only_what_nothing_needs(store: &dyn Store) {
    let u = user("prune@b.com");
    store.insert_user(&u, None).await.unwrap();
    // Sessions expire at `at + 1000`.
    let expired: Vec<Session> = (0..5).map(|i| session(&u, 100 + i)).collect();
    let live = session(&u, 5000);
    let revoked_long_ago = session(&u, 5000);
    let revoked_recently = session(&u, 5000);
    for (i, s) in expired.iter().enumerate() {
        store.insert_session(s, &h(200 + i as u8)).await.unwrap();
    }
    store.insert_session(&live, &h(210)).await.unwrap();
    store
        .insert_session(&revoked_long_ago, &h(211))
        .await
        .unwrap();
    store
        .insert_session(&revoked_recently, &h(212))
        .await
        .unwrap();
    assert!(store
        .rotate_refresh(live.id, &h(210), &h(213), 5001, 6001)
        .await
        .unwrap());
    store
        .revoke_session(revoked_long_ago.id, 5010)
        .await
        .unwrap();
    store
        .revoke_session(revoked_recently.id, 5900)
        .await
        .unwrap();

    // now = 5500: the five sessions that expired by 1104 go; revoked before
    // 5500 go. (This runs first in the suite: nothing else is stored yet.)
    let mut removed = store.prune(5500, 5500, 2).await.unwrap();
    assert!(removed <= 2 * 4, "each kind is bounded by the batch");
    while let n @ 1.. = store.prune(5500, 5500, 2).await.unwrap() {
        removed += n;
    }
    assert_eq!(
        removed, 6,
        "five expired sessions and one revoked long ago, in batches of two"
    );
    for s in &expired {
        assert_eq!(store.session(s.id).await.unwrap(), None);
    }
    assert_eq!(store.session(revoked_long_ago.id).await.unwrap(), None);
    assert!(store.session(live.id).await.unwrap().is_some());
    assert!(
        store.session(revoked_recently.id).await.unwrap().is_some(),
        "its access tokens may still be out there"
    );
    assert_eq!(
        store
            .session_by_refresh(&h(210))
            .await
            .unwrap()
            .map(|(s, m)| (s.id, m)),
        Some((live.id, RefreshMatch::Previous)),
        "a live session keeps its history"
    );
    assert_eq!(
        store.revoked_since(5000).await.unwrap(),
        vec![(revoked_recently.id, 5900)]
    );
}

async fn a_session_and_its_user_come_in_one_read(store: &dyn Store) {
    let mut u = user("joined@b.com");
    u.created_at = 42;
    u.email_verified_at = Some(43);
    store.insert_user(&u, None).await.unwrap();
    let s = session(&u, 100);
    store.insert_session(&s, &h(90)).await.unwrap();
    let (found_s, found_u) = store.session_with_user(s.id).await.unwrap().unwrap();
    assert_eq!(found_s, s, "the session's own columns, not the user's");
    assert_eq!(found_u, store.user_by_id(u.id).await.unwrap().unwrap());
    assert_eq!((found_u.id, found_u.created_at), (u.id, 42));
    assert_eq!(store.session_with_user(Uuid::new_v4()).await.unwrap(), None);
}

async fn rotation_is_compare_and_swap(store: &dyn Store) {
    let u = user("rot@b.com");
    store.insert_user(&u, None).await.unwrap();
    let s = session(&u, 100);
    store.insert_session(&s, &h(1)).await.unwrap();
    let (found, m) = store.session_by_refresh(&h(1)).await.unwrap().unwrap();
    assert_eq!((found, m), (s.clone(), RefreshMatch::Current));
    assert!(store
        .rotate_refresh(s.id, &h(1), &h(2), 150, 1150)
        .await
        .unwrap());
    assert!(
        !store
            .rotate_refresh(s.id, &h(1), &h(3), 151, 1151)
            .await
            .unwrap(),
        "the old hash cannot rotate twice"
    );
    let (now, m) = store.session_by_refresh(&h(1)).await.unwrap().unwrap();
    assert_eq!(m, RefreshMatch::Previous);
    assert_eq!(
        (now.rotated_at, now.expires_at, now.last_seen_at),
        (Some(150), 1150, 150)
    );
    assert_eq!(
        store.session_by_refresh(&h(2)).await.unwrap().unwrap().1,
        RefreshMatch::Current
    );
    assert!(store.session_by_refresh(&h(3)).await.unwrap().is_none());
}

async fn every_retired_hash_is_recognised(store: &dyn Store) {
    let u = user("gen@b.com");
    store.insert_user(&u, None).await.unwrap();
    let s = session(&u, 100);
    store.insert_session(&s, &h(30)).await.unwrap();
    for (i, (old, new)) in [(30, 31), (31, 32), (32, 33)].into_iter().enumerate() {
        let at = 200 + i as i64;
        assert!(store
            .rotate_refresh(s.id, &h(old), &h(new), at, at + 1000)
            .await
            .unwrap());
    }
    let matched = |b| async move {
        store
            .session_by_refresh(&h(b))
            .await
            .unwrap()
            .map(|(s, m)| (s.id, m))
    };
    assert_eq!(matched(33).await, Some((s.id, RefreshMatch::Current)));
    assert_eq!(matched(32).await, Some((s.id, RefreshMatch::Previous)));
    assert_eq!(matched(31).await, Some((s.id, RefreshMatch::Retired)));
    assert_eq!(
        matched(30).await,
        Some((s.id, RefreshMatch::Retired)),
        "the first token of the family too"
    );
    assert_eq!(matched(34).await, None);
}

async fn the_one_statement_rotation_takes_only_a_live_current_token(store: &dyn Store) {
    let u = user("one@b.com");
    store.insert_user(&u, None).await.unwrap();
    let s = session(&u, 100);
    store.insert_session(&s, &h(40)).await.unwrap();
    let rotated = store
        .rotate_current(&h(40), &h(41), 150, 1150)
        .await
        .unwrap()
        .expect("the current token of a live session rotates");
    assert_eq!(
        rotated,
        Session {
            last_seen_at: 150,
            rotated_at: Some(150),
            expires_at: 1150,
            ..s.clone()
        },
        "the session as it now is"
    );
    assert_eq!(store.session(s.id).await.unwrap(), Some(rotated.clone()));
    // The replaced token is now the previous one, never current again.
    assert_eq!(
        store
            .rotate_current(&h(40), &h(42), 151, 1151)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.session_by_refresh(&h(40)).await.unwrap().unwrap().1,
        RefreshMatch::Previous
    );
    assert!(
        store.session_by_refresh(&h(42)).await.unwrap().is_none(),
        "nothing written"
    );
    // One rotation more: the first token is retired, still recognised.
    store
        .rotate_current(&h(41), &h(43), 160, 1160)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.session_by_refresh(&h(40)).await.unwrap().unwrap().1,
        RefreshMatch::Retired
    );
    // Expired at `now`: refused, unchanged.
    assert_eq!(
        store
            .rotate_current(&h(43), &h(44), 1160, 2160)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.session(s.id).await.unwrap().unwrap().expires_at, 1160);
    // Revoked: refused, unchanged.
    store.revoke_session(s.id, 170).await.unwrap();
    assert_eq!(
        store
            .rotate_current(&h(43), &h(45), 171, 1171)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.session_by_refresh(&h(43)).await.unwrap().unwrap().1,
        RefreshMatch::Current
    );
    // Unknown.
    assert_eq!(
        store
            .rotate_current(&h(49), &h(48), 171, 1171)
            .await
            .unwrap(),
        None
    );
}

async fn concurrent_one_statement_rotations_have_one_winner(store: Arc<dyn Store>) {
    let u = user("race1@b.com");
    store.insert_user(&u, None).await.unwrap();
    let s = session(&u, 100);
    store.insert_session(&s, &h(250)).await.unwrap();
    // Hashes no earlier check used (theirs are below 200).
    let tasks: Vec<_> = (0..40u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rotate_current(&h(250), &[200 + i; 32], 200, 1200)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(wins, 1);
}

/// Many sessions rotating at once (a store may apply concurrent rotations
/// together, as SQLite's batching writer does): each caller gets its own
/// session back, every chain ends on its last token, and a revoked, an
/// expired and an unknown token in the same crowd change nothing.
async fn concurrent_rotations_of_many_sessions_each_answer_their_own(store: Arc<dyn Store>) {
    let matched = |hash: RefreshHash| {
        let store = store.clone();
        async move {
            store
                .session_by_refresh(&hash)
                .await
                .unwrap()
                .map(|(s, m)| (s.id, m))
        }
    };
    let u = user("crowd@b.com");
    store.insert_user(&u, None).await.unwrap();
    // Session k's n-th token: [k, n, 0xC0, …], unlike every other check's.
    let token = |k: u8, n: u8| {
        let mut t = [0xC0; 32];
        t[0] = k;
        t[1] = n;
        t
    };
    let mut sessions = Vec::new();
    for k in 0..40u8 {
        let s = session(&u, 100);
        store.insert_session(&s, &token(k, 0)).await.unwrap();
        sessions.push(s);
    }
    store.revoke_session(sessions[0].id, 110).await.unwrap();
    let chains: Vec<_> = (0..40u8)
        .map(|k| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for n in 0..6u8 {
                    // Session 1 is rotated past its expiry (1100).
                    let now = if k == 1 { 1100 } else { 200 + i64::from(n) };
                    answers.push(
                        store
                            .rotate_current(&token(k, n), &token(k, n + 1), now, now + 1000)
                            .await
                            .unwrap()
                            .map(|s| (s.id, s.rotated_at)),
                    );
                }
                answers
            })
        })
        .collect();
    let unknown = store
        .rotate_current(&token(99, 0), &token(99, 1), 200, 1200)
        .await
        .unwrap();
    assert_eq!(unknown, None);
    for (k, chain) in chains.into_iter().enumerate() {
        let answers = chain.await.unwrap();
        let s = &sessions[k];
        if k < 2 {
            assert_eq!(answers, vec![None; 6], "session {k} is revoked or expired");
            assert_eq!(
                matched(token(k as u8, 0)).await,
                Some((s.id, RefreshMatch::Current)),
                "session {k} unchanged"
            );
            continue;
        }
        let expected: Vec<_> = (0..6).map(|n| Some((s.id, Some(200 + n)))).collect();
        assert_eq!(answers, expected, "session {k}");
        assert_eq!(
            matched(token(k as u8, 6)).await,
            Some((s.id, RefreshMatch::Current)),
            "session {k} ends on its last token"
        );
        assert_eq!(
            matched(token(k as u8, 4)).await,
            Some((s.id, RefreshMatch::Retired)),
            "session {k}'s earlier tokens are retired"
        );
    }
}

async fn concurrent_rotations_have_one_winner(store: Arc<dyn Store>) {
    let u = user("race@b.com");
    store.insert_user(&u, None).await.unwrap();
    let s = session(&u, 100);
    store.insert_session(&s, &h(10)).await.unwrap();
    let tasks: Vec<_> = (0..64u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rotate_refresh(s.id, &h(10), &[100 + i; 32], 200, 1200)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

async fn revocation_stops_rotation_and_listing(store: &dyn Store) {
    let u = user("rev@b.com");
    store.insert_user(&u, None).await.unwrap();
    let a = session(&u, 100);
    let b = session(&u, 200);
    let expired = Session {
        expires_at: 150,
        ..session(&u, 50)
    };
    store.insert_session(&a, &h(20)).await.unwrap();
    store.insert_session(&b, &h(21)).await.unwrap();
    store.insert_session(&expired, &h(22)).await.unwrap();
    let ids: Vec<Uuid> = store
        .active_sessions(u.id, 300)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [b.id, a.id], "newest first, expired left out");
    assert!(store.revoke_session(a.id, 300).await.unwrap());
    assert!(
        !store.revoke_session(a.id, 301).await.unwrap(),
        "idempotent"
    );
    assert!(!store
        .rotate_refresh(a.id, &h(20), &h(23), 302, 1302)
        .await
        .unwrap());
    assert_eq!(
        store.session(a.id).await.unwrap().unwrap().revoked_at,
        Some(300)
    );
    let ids: Vec<Uuid> = store
        .active_sessions(u.id, 300)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [b.id]);
    store.ping().await.unwrap();
}

async fn the_account_lifecycle_is_stored(store: &dyn Store) {
    let u = user("life@b.com");
    store.insert_user(&u, Some("$argon2id$old")).await.unwrap();
    store.set_email_verified(u.id, 500).await.unwrap();
    store.set_email_verified(u.id, 600).await.unwrap();
    assert_eq!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at,
        Some(500),
        "the first proof is kept"
    );
    store.set_password_hash(u.id, None).await.unwrap();
    assert_eq!(
        store
            .user_by_email(&u.email)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        None
    );
    let (a, b, c) = (session(&u, 100), session(&u, 110), session(&u, 120));
    for (s, b) in [(&a, 40), (&b, 41), (&c, 42)] {
        store.insert_session(s, &h(b)).await.unwrap();
    }
    let mut revoked = store
        .revoke_user_sessions(u.id, Some(b.id), 300)
        .await
        .unwrap();
    revoked.sort();
    let mut expected = vec![a.id, c.id];
    expected.sort();
    assert_eq!(revoked, expected, "all but the kept one");
    assert!(store
        .revoke_user_sessions(u.id, Some(b.id), 301)
        .await
        .unwrap()
        .is_empty());
    store.link_identity("gh", "1", u.id, 100).await.unwrap();
    store.link_identity("google", "2", u.id, 100).await.unwrap();
    assert_eq!(store.identities_of(u.id).await.unwrap().len(), 2);
    assert_eq!(store.unlink_identities(u.id).await.unwrap(), 2);
    assert!(store.identity_user("gh", "1").await.unwrap().is_none());

    let token = |b: u8, purpose, expires_at| EmailToken {
        hash: [b; 32],
        user_id: u.id,
        purpose,
        email: u.email.clone(),
        created_at: 100,
        expires_at,
    };
    store
        .insert_email_token(&token(1, TokenPurpose::VerifyEmail, 1000))
        .await
        .unwrap();
    store
        .insert_email_token(&token(2, TokenPurpose::ResetPassword, 200))
        .await
        .unwrap();
    assert!(
        store
            .use_email_token(&[1; 32], TokenPurpose::ResetPassword, 150)
            .await
            .unwrap()
            .is_none(),
        "a token works only for its purpose"
    );
    assert!(
        store
            .use_email_token(&[2; 32], TokenPurpose::ResetPassword, 200)
            .await
            .unwrap()
            .is_none(),
        "an expired token does not work"
    );
    let used = store
        .use_email_token(&[1; 32], TokenPurpose::VerifyEmail, 150)
        .await
        .unwrap();
    assert_eq!(used, Some(token(1, TokenPurpose::VerifyEmail, 1000)));
    assert!(
        store
            .use_email_token(&[1; 32], TokenPurpose::VerifyEmail, 151)
            .await
            .unwrap()
            .is_none(),
        "once"
    );
    store
        .insert_email_token(&token(3, TokenPurpose::ResetPassword, 1000))
        .await
        .unwrap();
    store.link_identity("gh", "9", u.id, 100).await.unwrap();
    assert!(store.delete_user(u.id).await.unwrap());
    assert!(!store.delete_user(u.id).await.unwrap());
    assert!(store.user_by_id(u.id).await.unwrap().is_none());
    assert!(
        store.session(a.id).await.unwrap().is_none(),
        "sessions go with the user"
    );
    assert!(
        store.identity_user("gh", "9").await.unwrap().is_none(),
        "identities too"
    );
    assert!(
        store
            .use_email_token(&[3; 32], TokenPurpose::ResetPassword, 150)
            .await
            .unwrap()
            .is_none(),
        "and tokens"
    );
}

async fn concurrent_uses_of_one_token_have_one_winner(store: Arc<dyn Store>) {
    let u = user("once@b.com");
    store.insert_user(&u, None).await.unwrap();
    store
        .insert_email_token(&EmailToken {
            hash: [7; 32],
            user_id: u.id,
            purpose: TokenPurpose::ResetPassword,
            email: u.email.clone(),
            created_at: 100,
            expires_at: 1000,
        })
        .await
        .unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .use_email_token(&[7; 32], TokenPurpose::ResetPassword, 200)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

async fn revocations_are_kept_with_their_time(store: &dyn Store) {
    let u = user("kept@b.com");
    store.insert_user(&u, None).await.unwrap();
    let (a, b) = (session(&u, 100), session(&u, 100));
    store.insert_session(&a, &h(50)).await.unwrap();
    store.insert_session(&b, &h(51)).await.unwrap();
    store.revoke_session(a.id, 5_000).await.unwrap();
    store.revoke_user_sessions(u.id, None, 6_000).await.unwrap();
    let mut got = store.revoked_since(5_000).await.unwrap();
    got.retain(|(id, _)| *id == a.id || *id == b.id);
    got.sort();
    let mut expected = vec![(a.id, 5_000), (b.id, 6_000)];
    expected.sort();
    assert_eq!(got, expected);
    assert!(store
        .revoked_since(6_001)
        .await
        .unwrap()
        .iter()
        .all(|(id, _)| *id != a.id && *id != b.id));
}

async fn handoff_codes_work_once_and_expire(store: &dyn Store) {
    let u = user("handoff@b.com");
    store.insert_user(&u, None).await.unwrap();
    let s = session(&u, 100);
    store.insert_session(&s, &h(70)).await.unwrap();
    let code = |b: u8, expires_at| authjar_core::HandoffCode {
        code_hash: [b; 32],
        challenge: [b + 1; 32],
        session_id: s.id,
        refresh_hash: h(70),
        expires_at,
    };
    store.insert_handoff(&code(80, 160)).await.unwrap();
    store.insert_handoff(&code(90, 160)).await.unwrap();
    assert_eq!(
        store.take_handoff(&[80; 32], 150).await.unwrap(),
        Some(code(80, 160))
    );
    assert_eq!(
        store.take_handoff(&[80; 32], 151).await.unwrap(),
        None,
        "once"
    );
    assert_eq!(
        store.take_handoff(&[90; 32], 160).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.take_handoff(&[91; 32], 100).await.unwrap(),
        None,
        "unknown"
    );
}

async fn run_all(store: Arc<dyn Store>) {
    pruning_removes_only_what_nothing_needs(store.as_ref()).await;
    a_session_and_its_user_come_in_one_read(store.as_ref()).await;
    handoff_codes_work_once_and_expire(store.as_ref()).await;
    revocations_are_kept_with_their_time(store.as_ref()).await;
    the_account_lifecycle_is_stored(store.as_ref()).await;
    concurrent_uses_of_one_token_have_one_winner(store.clone()).await;
    users_are_unique_by_email(store.as_ref()).await;
    rotation_is_compare_and_swap(store.as_ref()).await;
    every_retired_hash_is_recognised(store.as_ref()).await;
    concurrent_rotations_have_one_winner(store.clone()).await;
    the_one_statement_rotation_takes_only_a_live_current_token(store.as_ref()).await;
    concurrent_one_statement_rotations_have_one_winner(store.clone()).await;
    concurrent_rotations_of_many_sessions_each_answer_their_own(store.clone()).await;
    revocation_stops_rotation_and_listing(store.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("nested-dir-is-not-needed.db"))
        .await
        .unwrap();
    run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_conformance_suite() {
    run_all(Arc::new(authjar_core::MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_store_creates_the_file_and_reopens_it_with_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authjar.db");
    let u = user("keep@b.com");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_user(&u, None).await.unwrap();
    }
    assert!(path.exists());
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.user_by_id(u.id).await.unwrap(), Some(u));
}

/// A migrated store on a database of the test's own.
async fn pg_store(db: &PgDatabase) -> authjar_store::PgStore {
    let store =
        authjar_store::PgStore::connect(&db.url, authjar_store::PoolSettings::default()).unwrap();
    store.migrate().await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_conformance_suite() {
    let db = PgDatabase::create().await;
    run_all(Arc::new(pg_store(&db).await)).await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_run_once_when_instances_start_together_and_refuse_a_newer_schema() {
    let db = PgDatabase::create().await;
    let a =
        authjar_store::PgStore::connect(&db.url, authjar_store::PoolSettings::default()).unwrap();
    let b =
        authjar_store::PgStore::connect(&db.url, authjar_store::PoolSettings::default()).unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    let u = user("pg@b.com");
    a.insert_user(&u, None).await.unwrap();
    assert_eq!(
        b.user_by_id(u.id).await.unwrap(),
        Some(u),
        "both instances see one database"
    );
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', true, '\\x00', 0)")
        .execute(a.pool())
        .await
        .unwrap();
    let e = b.migrate().await.unwrap_err().to_string();
    assert!(e.contains("newer than this authjar"), "{e}");
    drop((a, b));
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_postgres_instance_reaches_the_others_feed() {
    let db = PgDatabase::create().await;
    let a = pg_store(&db).await;
    let b =
        authjar_store::PgStore::connect(&db.url, authjar_store::PoolSettings::default()).unwrap();
    let mut feed = b.revocation_feed().expect("PostgreSQL shares revocations");
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv())
        .await
        .unwrap();
    assert_eq!(
        first,
        Some(authjar_core::RevocationEvent::Resync),
        "a new feed starts with a resync"
    );
    let u = user("feed@b.com");
    a.insert_user(&u, None).await.unwrap();
    let (s1, s2, s3) = (session(&u, 100), session(&u, 100), session(&u, 100));
    for (s, b) in [(&s1, 60), (&s2, 61), (&s3, 62)] {
        a.insert_session(s, &h(b)).await.unwrap();
    }
    assert!(a.revoke_session(s1.id, 200).await.unwrap());
    a.revoke_user_sessions(u.id, Some(s3.id), 201)
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(std::time::Duration::from_secs(1), feed.recv()).await {
            Ok(Some(authjar_core::RevocationEvent::Revoked(id))) => seen.push(id),
            Ok(Some(authjar_core::RevocationEvent::Resync)) => {}
            other => panic!("within a second every revocation arrives: {other:?} after {seen:?}"),
        }
    }
    seen.sort();
    let mut expected = vec![s1.id, s2.id];
    expected.sort();
    assert_eq!(seen, expected);
    drop(feed);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_budgets_allow_exactly_the_limit_under_concurrency() {
    use authjar_core::{Budget, SharedBudgets};
    use std::time::Duration;
    let db = PgDatabase::create().await;
    let store = Arc::new(pg_store(&db).await);
    let budget = Budget {
        limit: 10,
        period: Duration::from_secs(60),
    };
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take("client|203.0.113.9", budget).await.unwrap() })
        })
        .collect();
    let mut taken = 0;
    for a in attempts {
        match a.await.unwrap() {
            None => taken += 1,
            Some(wait) => assert!(
                wait > Duration::ZERO && wait <= Duration::from_secs(6),
                "one unit refills in 6 s: {wait:?}"
            ),
        }
    }
    assert_eq!(taken, 10, "50 concurrent attempts, a budget of 10");
    assert!(
        store
            .take("client|203.0.113.10", budget)
            .await
            .unwrap()
            .is_none(),
        "another key has its own budget"
    );

    // Failures: spending the limit does not overdraw; one more does, for about one interval.
    let fails = Budget {
        limit: 3,
        period: Duration::from_secs(60),
    };
    for _ in 0..3 {
        assert_eq!(store.spend("acct", fails).await.unwrap(), None);
        assert_eq!(store.overdrawn("acct", fails).await.unwrap(), None);
    }
    let wait = store
        .spend("acct", fails)
        .await
        .unwrap()
        .expect("the fourth overdraws");
    assert!(wait <= Duration::from_secs(20), "{wait:?}");
    assert!(store.overdrawn("acct", fails).await.unwrap().is_some());
    assert_eq!(store.overdrawn("other", fails).await.unwrap(), None);
    let keys: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rate_limits WHERE key_hash = sha256(convert_to('acct', 'UTF8'))",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(keys, 1, "keys are stored hashed");
    db.drop().await;
}
