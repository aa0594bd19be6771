//! Operator commands that work on the storage directly, without a running
//! server: `xieshang user add`. They use the same storage options as `serve`,
//! so users can be added before or while serving (SQLite in WAL mode and
//! PostgreSQL both allow a second writer process).

use anyhow::Context;
use xieshang_shared::User;

use crate::auth;
use crate::config::UserAdd;
use crate::db::queries::users::{self, NewUser};
use crate::db::Db;

/// Shortest password accepted from an operator.
const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (argon2 work must stay bounded; matches the login limit).
const MAX_PASSWORD_BYTES: usize = 1024;

/// Strips the line ending that `echo pw | xieshang user add --password-stdin`
/// leaves, and checks the length. Inner whitespace is kept: it may be meant.
pub fn clean_password(password: String) -> anyhow::Result<String> {
    let cleaned = password.strip_suffix('\n').unwrap_or(&password);
    let cleaned = cleaned.strip_suffix('\r').unwrap_or(cleaned);
    anyhow::ensure!(
        cleaned.chars().count() >= MIN_PASSWORD_CHARS,
        "the password must have at least {MIN_PASSWORD_CHARS} characters"
    );
    anyhow::ensure!(
        cleaned.len() <= MAX_PASSWORD_BYTES,
        "the password must be at most {MAX_PASSWORD_BYTES} bytes"
    );
    Ok(cleaned.to_string())
}

/// `xieshang user add`: validates the input, hashes the password (argon2id)
/// and creates the account. The password comes from stdin, read by `main`.
pub async fn add_user_cli(args: &UserAdd, password: String) -> anyhow::Result<User> {
    users::validate_username(&args.username)?;
    let role = users::parse_role(&args.role)?;
    let display_name = args
        .display_name
        .clone()
        .unwrap_or_else(|| args.username.clone());
    users::validate_display_name(&display_name)?;
    let password = clean_password(password)?;

    let db = Db::open(&args.storage.data, args.storage.database_url.as_deref())
        .await
        .context("opening the database")?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
    let new = NewUser {
        username: &args.username,
        display_name: &display_name,
        role,
        invited: false,
        sector: None,
        site: None,
        password_hash: &hash,
    };
    let added = users::add_user(&db, &new).await;
    db.close().await;
    Ok(added?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StorageArgs;

    fn args(dir: &std::path::Path, username: &str, role: &str) -> UserAdd {
        UserAdd {
            storage: StorageArgs {
                data: dir.to_path_buf(),
                database_url: None,
            },
            username: username.to_string(),
            display_name: Some("周敏".to_string()),
            password_stdin: true,
            role: role.to_string(),
        }
    }

    #[test]
    fn passwords_from_stdin() {
        assert_eq!(clean_password("secret pw1\n".into()).unwrap(), "secret pw1");
        assert_eq!(
            clean_password("secret pw1\r\n".into()).unwrap(),
            "secret pw1"
        );
        assert!(clean_password("short\n".into()).is_err());
        assert!(clean_password("x".repeat(2000)).is_err());
    }

    #[tokio::test]
    async fn adds_users() {
        let dir = tempfile::tempdir().unwrap();
        let user = add_user_cli(&args(dir.path(), "zhou.min", "staff"), "password1\n".into())
            .await
            .unwrap();
        assert_eq!(
            (user.username.as_str(), user.display_name.as_str()),
            ("zhou.min", "周敏")
        );
        let again =
            add_user_cli(&args(dir.path(), "zhou.min", "staff"), "password1\n".into()).await;
        assert!(again.is_err(), "duplicate username");
        assert!(
            add_user_cli(&args(dir.path(), "x y", "staff"), "password1".into())
                .await
                .is_err()
        );
        assert!(
            add_user_cli(&args(dir.path(), "li", "boss"), "password1".into())
                .await
                .is_err()
        );

        let db = Db::open(dir.path(), None).await.unwrap();
        let creds = users::find_by_username(&db, "zhou.min")
            .await
            .unwrap()
            .unwrap();
        assert!(auth::verify_password("password1", &creds.password_hash));
    }
}
