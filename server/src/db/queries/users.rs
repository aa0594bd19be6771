//! Users and what signing in needs: accounts with their password hashes, sectors
//! and sites, sign-in throttling (per address and per username at an address)
//! and signed-out sessions.
//!
//! Input validation for accounts lives here too, so the HTTP API, the
//! `user add` command and the demo seed all accept exactly the same names.

use serde::Serialize;
use xieshang_shared::{Role, SectorId, SiteId, User, UserId};

use crate::db::{now_ms, Db};
use crate::error::{AppError, Result};
use crate::on_db;

/// Longest display name accepted, in characters.
const MAX_DISPLAY_NAME: usize = 100;

/// A user to create. The password is already hashed ([`crate::auth::hash_password`]).
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    /// 特邀委员: takes part like a member, shown as invited.
    pub invited: bool,
    pub sector: Option<SectorId>,
    pub site: Option<SiteId>,
    pub password_hash: &'a str,
}

/// An account together with its password hash, for the login check only.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    /// PHC string (argon2id).
    pub password_hash: String,
}

/// A user as listed for staff choosing participants: the public [`User`] plus
/// what helps to pick the right people (sector, site, invited).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UserSummary {
    #[serde(flatten)]
    pub user: User,
    pub invited: bool,
    pub sector: Option<String>,
    pub site: Option<String>,
}

/// Usernames are ASCII so that they are easy to type at a liaison office and
/// cannot be confused through look-alike characters: 1–64 of `[A-Za-z0-9_.-]`.
pub fn validate_username(username: &str) -> Result<()> {
    let ok = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "bad_username",
            "username must be 1–64 characters of A-Z a-z 0-9 _ . -",
        ))
    }
}

/// Trims the display name and checks it is 1–100 characters without control characters.
pub fn validate_display_name(name: &str) -> Result<String> {
    let name = name.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_DISPLAY_NAME || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "bad_display_name",
            "display name must be 1–100 characters",
        ));
    }
    Ok(name.to_string())
}

/// Parses `member|staff|leader|admin` into a [`Role`], as a 400 `bad_role` otherwise.
pub fn parse_role(role: &str) -> Result<Role> {
    role.trim().parse::<Role>().map_err(|_| {
        AppError::bad_request(
            "bad_role",
            "role must be one of member, staff, leader, admin",
        )
    })
}

fn user_from(id: i64, username: String, display_name: String, role: String) -> sqlx::Result<User> {
    let role = role
        .parse::<Role>()
        .map_err(|e| sqlx::Error::Decode(format!("users.role: {e}").into()))?;
    Ok(User {
        id: UserId(id),
        username,
        display_name,
        role,
    })
}

/// Creates an account after validating its username and display name.
/// A username already in use is a 409 `username_taken`.
pub async fn add_user(db: &Db, new: &NewUser<'_>) -> Result<User> {
    validate_username(new.username)?;
    let display_name = validate_display_name(new.display_name)?;
    let inserted: sqlx::Result<i64> = on_db!(db, pool => sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, invited, sector_id, site_id, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.username)
    .bind(&display_name)
    .bind(new.role.as_str())
    .bind(new.invited)
    .bind(new.sector.map(|s| s.0))
    .bind(new.site.map(|s| s.0))
    .bind(new.password_hash)
    .bind(now_ms())
    .fetch_one(pool)
    .await);
    match inserted {
        Ok(id) => Ok(User {
            id: UserId(id),
            username: new.username.to_string(),
            display_name,
            role: new.role,
        }),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::conflict(
            "username_taken",
            "this username is already in use",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The account and password hash for a username (exact match), for signing in.
pub async fn find_by_username(db: &Db, username: &str) -> sqlx::Result<Option<Credentials>> {
    let row: Option<(i64, String, String, String, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, username, display_name, role, password_hash FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await?);
    row.map(|(id, u, d, r, password_hash)| {
        Ok(Credentials {
            user: user_from(id, u, d, r)?,
            password_hash,
        })
    })
    .transpose()
}

/// The user with this id, if the account still exists.
pub async fn find_by_id(db: &Db, id: UserId) -> sqlx::Result<Option<User>> {
    let row: Option<(i64, String, String, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, username, display_name, role FROM users WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?);
    row.map(|(id, u, d, r)| user_from(id, u, d, r)).transpose()
}

/// The user a session token names, unless the account is gone or that session
/// was signed out: one query on every authenticated request.
pub async fn find_session_user(db: &Db, id: UserId, nonce: &str) -> sqlx::Result<Option<User>> {
    let row: Option<(i64, String, String, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, username, display_name, role FROM users WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE nonce = $2)",
    )
    .bind(id.0)
    .bind(nonce)
    .fetch_optional(pool)
    .await?);
    row.map(|(id, u, d, r)| user_from(id, u, d, r)).transpose()
}

/// Columns of a [`UserSummary`]: id, username, display name, role, invited, sector, site.
type SummaryRow = (
    i64,
    String,
    String,
    String,
    bool,
    Option<String>,
    Option<String>,
);

/// Every user with sector and site names, ordered by role then username.
pub async fn list_users(db: &Db) -> sqlx::Result<Vec<UserSummary>> {
    let rows: Vec<SummaryRow> = on_db!(db, pool => sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.role, u.invited, s.name, t.name \
             FROM users u LEFT JOIN sectors s ON s.id = u.sector_id LEFT JOIN sites t ON t.id = u.site_id \
             ORDER BY u.role, u.username",
        )
        .fetch_all(pool)
        .await?);
    rows.into_iter()
        .map(|(id, u, d, r, invited, sector, site)| {
            Ok(UserSummary {
                user: user_from(id, u, d, r)?,
                invited,
                sector,
                site,
            })
        })
        .collect()
}

/// How many accounts exist: the demo seeds only a database with none.
pub async fn count_users(db: &Db) -> sqlx::Result<i64> {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)
}

/// Creates a sector (界别) by name.
pub async fn add_sector(db: &Db, name: &str) -> sqlx::Result<SectorId> {
    let id: i64 = on_db!(db, pool => sqlx::query_scalar("INSERT INTO sectors (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(pool)
        .await?);
    Ok(SectorId(id))
}

/// Creates a site (委员联络室) by name.
pub async fn add_site(db: &Db, name: &str) -> sqlx::Result<SiteId> {
    let id: i64 = on_db!(db, pool => sqlx::query_scalar("INSERT INTO sites (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(pool)
        .await?);
    Ok(SiteId(id))
}

/// How one throttled key (an address, or a username at an address) is slowed
/// down: `free` attempts pass at once, then the next must wait `base_ms`, and
/// every further failure doubles the wait up to `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    pub free: i64,
    pub base_ms: i64,
    pub max_ms: i64,
}

impl ThrottleRule {
    /// How long after the `failures`-th failure the next attempt must wait (ms).
    pub fn delay_after(&self, failures: i64) -> i64 {
        if failures < self.free.max(1) {
            return 0;
        }
        let doublings = u32::try_from(failures - self.free.max(1)).unwrap_or(u32::MAX);
        let factor = 1i64.checked_shl(doublings.min(40)).unwrap_or(i64::MAX);
        self.base_ms
            .saturating_mul(factor)
            .clamp(0, self.max_ms.max(0))
    }
}

/// What [`reserve_signin`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// A slot is taken on every key: the password may be checked now. It stays
    /// counted as a failure unless [`signin_succeeded`] gives it back.
    Granted,
    /// A key is waiting out its delay: nothing was counted.
    Throttled {
        /// Unix ms at which that key accepts an attempt again.
        until: i64,
    },
}

/// Takes one attempt slot on each of `keys` (in this order, the same order
/// everywhere so PostgreSQL row locks cannot deadlock), in one transaction:
/// either every key counts the attempt, or none does and the answer is
/// [`Reservation::Throttled`].
///
/// Why reserve before the password is checked: the count and the check are
/// then one atomic step per key (an upsert that only applies while the key is
/// not waiting), so parallel guesses cannot all read "below the limit" and slip
/// past it. Rows idle since before `forget_before` start from zero.
pub async fn reserve_signin(
    db: &Db,
    keys: &[(&str, ThrottleRule)],
    now: i64,
    forget_before: i64,
) -> sqlx::Result<Reservation> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        for (key, rule) in keys {
            let failures: Option<i64> = sqlx::query_scalar(
                "INSERT INTO signin_throttle (key, failures, not_before, updated_at) VALUES ($1, 1, 0, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN signin_throttle.updated_at < $3 THEN 1 ELSE signin_throttle.failures + 1 END, \
                 updated_at = excluded.updated_at \
                 WHERE signin_throttle.not_before <= excluded.updated_at OR signin_throttle.updated_at < $3 \
                 RETURNING failures",
            )
            .bind(*key)
            .bind(now)
            .bind(forget_before)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(failures) = failures else {
                let until: Option<i64> =
                    sqlx::query_scalar("SELECT not_before FROM signin_throttle WHERE key = $1")
                        .bind(*key)
                        .fetch_optional(&mut *tx)
                        .await?;
                tx.rollback().await?;
                return Ok(Reservation::Throttled { until: until.unwrap_or(now) });
            };
            let delay = rule.delay_after(failures);
            if delay > 0 {
                sqlx::query("UPDATE signin_throttle SET not_before = $2 WHERE key = $1")
                    .bind(*key)
                    .bind(now.saturating_add(delay))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Reservation::Granted)
    })
}

/// After a correct password: the username at that address starts afresh, and
/// the address gets its slot back (so an office behind one address is not
/// slowed down by its own successful sign-ins). `address_free` is the address
/// rule's free budget: below it, the address need not wait any more.
pub async fn signin_succeeded(
    db: &Db,
    pair_key: &str,
    address_key: &str,
    address_free: i64,
) -> sqlx::Result<()> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM signin_throttle WHERE key = $1")
            .bind(pair_key)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE signin_throttle SET failures = failures - 1, \
             not_before = CASE WHEN failures - 1 < $2 THEN 0 ELSE not_before END \
             WHERE key = $1 AND failures > 0",
        )
        .bind(address_key)
        .bind(address_free)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
}

/// Gives back the slots [`reserve_signin`] took on `keys` without a verdict
/// (the server was too busy to check the password): a refusal of ours must not
/// count against the user.
pub async fn release_signin(db: &Db, keys: &[(&str, ThrottleRule)]) -> sqlx::Result<()> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        for (key, rule) in keys {
            sqlx::query(
                "UPDATE signin_throttle SET failures = failures - 1, \
                 not_before = CASE WHEN failures - 1 < $2 THEN 0 ELSE not_before END \
                 WHERE key = $1 AND failures > 0",
            )
            .bind(*key)
            .bind(rule.free)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })
}

/// Drops throttle rows idle since before `forget_before` whose wait is over,
/// so the table only holds keys that are being slowed down.
pub async fn forget_idle_signins(db: &Db, forget_before: i64, now: i64) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM signin_throttle WHERE updated_at < $1 AND not_before <= $2")
        .bind(forget_before)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// The failures counted for a throttle key (0 when it has no row): for tests
/// and operators looking at who is being slowed down.
pub async fn signin_failures(db: &Db, key: &str) -> sqlx::Result<i64> {
    let n: Option<i64> = on_db!(db, pool => sqlx::query_scalar("SELECT failures FROM signin_throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?);
    Ok(n.unwrap_or(0))
}

/// Ends a session before its token expires (sign out). Rows of tokens that have
/// expired anyway are dropped on the way, since expiry alone refuses them.
pub async fn revoke_session(db: &Db, nonce: &str, expires_at: i64) -> sqlx::Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM revoked_sessions WHERE expires_at < $1").bind(now_ms()).execute(pool).await?;
        sqlx::query("INSERT INTO revoked_sessions (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING")
            .bind(nonce)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(validate_username("li.wei_2024-a").is_ok());
        assert!(validate_username(&"a".repeat(64)).is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username(&"a".repeat(65)).is_err());
        assert!(validate_username("李伟").is_err());
        assert!(validate_username("a b").is_err());
        assert!(validate_username("a/b").is_err());
    }

    #[test]
    fn display_names_and_roles() {
        assert_eq!(
            validate_display_name("  王主席 ").ok().as_deref(),
            Some("王主席")
        );
        assert!(validate_display_name("   ").is_err());
        assert!(validate_display_name(&"名".repeat(101)).is_err());
        assert!(validate_display_name("a\nb").is_err());
        assert_eq!(parse_role("staff").ok(), Some(Role::Staff));
        assert!(parse_role("root").is_err());
    }

    #[test]
    fn throttle_delays_grow_and_are_capped() {
        let rule = ThrottleRule {
            free: 3,
            base_ms: 1000,
            max_ms: 60_000,
        };
        let delays: Vec<i64> = (0..=10).map(|f| rule.delay_after(f)).collect();
        assert_eq!(
            delays,
            [0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]
        );
        assert_eq!(rule.delay_after(i64::MAX), 60_000, "no overflow");
        let one = ThrottleRule { free: 0, ..rule };
        assert_eq!(one.delay_after(1), 1000, "free 0 behaves as 1");
    }
}
