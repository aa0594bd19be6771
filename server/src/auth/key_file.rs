//! Where the session key lives: [`SESSION_KEY_ENV`], else the key file
//! [`SESSION_KEY_FILE`] under the data dir (mode 0600), never the database.
//!
//! Older versions kept the key in `settings.session_secret`, so every backup of
//! the database could mint admin sessions. [`Keys::load`] moves such a secret
//! to the key file once (existing sessions stay valid) and deletes it.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use rand::RngCore;

use super::{dummy_hash, Keys};
use crate::db::queries::settings;
use crate::db::Db;

/// The environment variable that holds the session key: base64, at least 32 bytes.
/// Processes that share one PostgreSQL must share this key (or one key file).
pub const SESSION_KEY_ENV: &str = "XIESHANG_SESSION_KEY";
/// The key file under the data dir, used when [`SESSION_KEY_ENV`] is unset.
pub const SESSION_KEY_FILE: &str = "session.key";
/// The `settings` key under which older versions stored the signing secret.
const SECRET_SETTING: &str = "session_secret";
/// Bytes of a freshly made key.
pub(super) const KEY_BYTES: usize = 32;

impl Keys {
    /// The key for this process: `env_key` (the value of [`SESSION_KEY_ENV`])
    /// if given, else the key file `session.key` under `data_dir`, created with
    /// mode 0600 on first start. A `session_secret` left in the database by an
    /// older version becomes the key file when there is none yet, so existing
    /// sessions stay valid, and is deleted from the database either way.
    pub async fn load(
        db: &Db,
        data_dir: &Path,
        env_key: Option<&str>,
    ) -> anyhow::Result<(Keys, KeySource)> {
        let (secret, source) = match env_key {
            Some(value) => (
                decode_key(value).map_err(|e| anyhow::anyhow!("{SESSION_KEY_ENV}: {e}"))?,
                KeySource::Env,
            ),
            None => {
                let path = data_dir.join(SESSION_KEY_FILE);
                match read_key_file(&path)? {
                    Some(secret) => (secret, KeySource::File),
                    None => {
                        let (candidate, source) = match settings::get(db, SECRET_SETTING).await? {
                            Some(old) => (
                                decode_key(&old).map_err(|e| {
                                    anyhow::anyhow!("settings.{SECRET_SETTING}: {e}")
                                })?,
                                KeySource::MigratedFromDatabase,
                            ),
                            None => {
                                let mut fresh = vec![0u8; KEY_BYTES];
                                rand::rngs::OsRng.fill_bytes(&mut fresh);
                                (fresh, KeySource::CreatedFile)
                            }
                        };
                        if write_new_key_file(&path, &candidate)? {
                            (candidate, source)
                        } else {
                            // Another process created it first: everyone uses that one.
                            let secret = read_key_file(&path)?.ok_or_else(|| {
                                anyhow::anyhow!("{} vanished while starting", path.display())
                            })?;
                            (secret, KeySource::File)
                        }
                    }
                }
            }
        };
        if settings::delete(db, SECRET_SETTING).await? {
            tracing::info!(
                key = ?source,
                "removed the session key from the database; it is kept outside it now"
            );
        }
        let keys = Keys::from_secret(&secret)?;
        // Compute the dummy hash now, so the first login for an unknown user is not
        // measurably slower than one for a known user.
        tokio::task::spawn_blocking(dummy_hash).await?;
        Ok((keys, source))
    }
}

/// Where [`Keys::load`] found the session key (logged at start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// [`SESSION_KEY_ENV`].
    Env,
    /// An existing key file.
    File,
    /// A new random key, written to a new key file.
    CreatedFile,
    /// The secret older versions kept in `settings`, moved to a new key file.
    MigratedFromDatabase,
}

/// A key as configured: base64 (standard alphabet, padding optional), ≥ 32 bytes.
fn decode_key(text: &str) -> anyhow::Result<Vec<u8>> {
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .map_err(|_| anyhow::anyhow!("not base64"))?;
    anyhow::ensure!(
        bytes.len() >= 32,
        "a session key needs at least 32 bytes, this one has {}",
        bytes.len()
    );
    Ok(bytes)
}

/// The key in `path`, or `None` when there is no such file.
fn read_key_file(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the session key file is readable by others; chmod 600 it");
            }
        }
    }
    decode_key(&text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Writes `secret` to `path` unless it exists: to a private temporary file
/// first (mode 0600, synced), then hard-linked into place, so no process ever
/// reads a half-written key and a concurrent start cannot be overwritten.
/// Answers `false` when `path` was already there.
fn write_new_key_file(path: &Path, secret: &[u8]) -> anyhow::Result<bool> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{SESSION_KEY_FILE}.{:016x}.tmp",
        rand::rngs::OsRng.next_u64()
    ));
    let written = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(STANDARD.encode(secret).as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(anyhow::anyhow!("writing {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use xieshang_shared::UserId;

    use super::*;
    use crate::auth::{issue_token_at, verify_token};

    #[tokio::test]
    async fn session_key_file_env_and_migration() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).await.unwrap();
        let file = dir.path().join(SESSION_KEY_FILE);
        let token_of = |k: &Keys| issue_token_at(k, UserId(9), 0, Duration::from_secs(60));

        // An older version's secret in the database: moved to the key file, removed.
        let old = [5u8; 32];
        settings::set(&db, SECRET_SETTING, &STANDARD.encode(old))
            .await
            .unwrap();
        let old_token = token_of(&Keys::from_secret(&old).unwrap());
        let (k, source) = Keys::load(&db, dir.path(), None).await.unwrap();
        assert_eq!(source, KeySource::MigratedFromDatabase);
        assert_eq!(
            verify_token(&k, &old_token, 1).unwrap(),
            UserId(9),
            "sessions survive"
        );
        assert_eq!(settings::get(&db, SECRET_SETTING).await.unwrap(), None);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");

        // Restart: the same file, the same key.
        let (k2, source) = Keys::load(&db, dir.path(), None).await.unwrap();
        assert_eq!(source, KeySource::File);
        assert_eq!(verify_token(&k2, &old_token, 1).unwrap(), UserId(9));

        // The environment wins over the file (and a stray database secret goes).
        settings::set(&db, SECRET_SETTING, &STANDARD.encode([6u8; 32]))
            .await
            .unwrap();
        let env = STANDARD.encode([1u8; 40]);
        let (k3, source) = Keys::load(&db, dir.path(), Some(&env)).await.unwrap();
        assert_eq!(source, KeySource::Env);
        assert!(verify_token(&k3, &old_token, 1).is_err());
        let env_token = token_of(&Keys::from_secret(&[1u8; 40]).unwrap());
        assert_eq!(verify_token(&k3, &env_token, 1).unwrap(), UserId(9));
        assert_eq!(settings::get(&db, SECRET_SETTING).await.unwrap(), None);
        assert!(
            Keys::load(&db, dir.path(), Some("c2hvcnQ=")).await.is_err(),
            "too short"
        );
        assert!(
            Keys::load(&db, dir.path(), Some("%%%")).await.is_err(),
            "not base64"
        );

        // No file and no database secret: a fresh key, written 0600.
        let fresh = tempfile::tempdir().unwrap();
        let (k4, source) = Keys::load(&db, fresh.path(), None).await.unwrap();
        assert_eq!(source, KeySource::CreatedFile);
        let stored = std::fs::read_to_string(fresh.path().join(SESSION_KEY_FILE)).unwrap();
        let k5 = Keys::from_secret(&decode_key(&stored).unwrap()).unwrap();
        assert_eq!(verify_token(&k5, &token_of(&k4), 1).unwrap(), UserId(9));
        let mode = std::fs::metadata(fresh.path().join(SESSION_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::read_dir(fresh.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        db.close().await;
    }
}
