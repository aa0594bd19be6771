//! A throwaway PostgreSQL cluster for the tests: a temporary directory, trust
//! authentication, loopback only, a free port. Stopped and removed when dropped,
//! so a failing test run does not leave it behind.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::sh;

/// The database the tests get.
const DATABASE: &str = "xieshang_test";

/// A running cluster; dropping it stops it and deletes its files.
pub struct TempPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// Run the server as the `postgres` OS user (PostgreSQL refuses root).
    as_postgres: bool,
    running: bool,
}

impl TempPostgres {
    /// initdb, start, create the test database.
    pub fn start(bin: &Path) -> Result<TempPostgres> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("xieshang-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let as_postgres = sh::is_root();
        let mut pg = TempPostgres {
            bin: bin.to_path_buf(),
            dir,
            port: 0,
            as_postgres,
            running: false,
        };
        if as_postgres {
            sh::run(Command::new("chown").arg("postgres:postgres").arg(&pg.dir))?;
        }
        let data = pg.dir.join("data");
        sh::run(pg.command("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        pg.port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            pg.port,
            pg.dir.display()
        );
        let log = pg.dir.join("postgres.log");
        let started = sh::run(
            pg.command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"]),
        );
        pg.running = true;
        if let Err(e) = started {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(e.context(format!("PostgreSQL did not start; its log:\n{tail}")));
        }
        sh::run(pg.command("createdb").args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-p",
            &pg.port.to_string(),
            DATABASE,
        ]))?;
        println!("postgresql running: {}", pg.url());
        Ok(pg)
    }

    /// `postgres://postgres@127.0.0.1:PORT/xieshang_test`
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// Stops the server and removes its files.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if self.running {
            self.running = false;
            sh::run(
                self.command("pg_ctl")
                    .arg("-D")
                    .arg(self.dir.join("data"))
                    .args(["-m", "fast", "-w", "stop"]),
            )?;
        }
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .with_context(|| format!("removing {}", self.dir.display()))?;
        }
        Ok(())
    }

    /// A PostgreSQL program, as the `postgres` user when we are root, started
    /// in the cluster's directory (which that user can read).
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.current_dir(&self.dir);
        cmd
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            eprintln!("xtask: stopping PostgreSQL: {e:#}");
        }
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a probe socket")?;
    Ok(listener.local_addr()?.port())
}
