//! Command line and configuration: one clap-derived struct per command.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `xieshang`: the whole product in one process.
#[derive(Debug, Parser)]
#[command(
    name = "xieshang",
    version,
    about = "协商 Xieshang: offline-first co-drafting for CPPCC consultation work"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The binary's commands, named in DESIGN.md.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the sync endpoint and the client.
    // Boxed: `Config` is far larger than the other commands' arguments.
    Serve(Box<Config>),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
}

/// `xieshang user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user, reading the password from standard input.
    Add(UserAdd),
}

/// Where the data lives: shared by `serve` and `user add`, so an operator can add
/// users before or while serving.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the SQLite file (and other local state).
    #[arg(long, default_value = "./data", env = "XIESHANG_DATA")]
    pub data: PathBuf,
    /// `postgres://…` to use PostgreSQL (or `sqlite:…` for an explicit SQLite file).
    #[arg(long, env = "XIESHANG_DATABASE_URL")]
    pub database_url: Option<String>,
}

/// `xieshang user add`
#[derive(Debug, Clone, Args)]
pub struct UserAdd {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[arg(long)]
    pub username: String,
    /// Shown in the UI; defaults to the username.
    #[arg(long)]
    pub display_name: Option<String>,
    /// Read the password from standard input (required: never on the command line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// member | staff | leader | admin
    #[arg(long, default_value = "member")]
    pub role: String,
}

/// `xieshang serve`: everything the server needs to run. Limits have safe defaults.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8080", env = "XIESHANG_ADDR")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Seed a demo committee (only into an empty database) and print its logins.
    #[arg(long)]
    pub demo: bool,
    /// Directory with a built client to serve instead of the embedded one.
    #[arg(long, env = "XIESHANG_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
    /// Largest WebSocket message accepted, in bytes; checked before decoding.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Largest awareness (presence) message accepted, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_awareness_bytes: usize,
    /// Sustained messages per second allowed on one connection (0 = unlimited).
    #[arg(long, default_value_t = 2000)]
    pub max_messages_per_sec: u32,
    /// Burst of messages allowed above the sustained rate.
    #[arg(long, default_value_t = 20000)]
    pub message_burst: u32,
    /// Outbound messages queued for one connection before it is closed as too slow.
    #[arg(long, default_value_t = 4096)]
    pub outbound_queue: usize,
    /// Seconds a document with no connections stays in memory.
    #[arg(long, default_value_t = 30)]
    pub idle_evict_secs: u64,
    /// Log entries after which a document's log is compacted into a snapshot.
    #[arg(long, default_value_t = 512)]
    pub compact_every: u64,
    /// Session lifetime in hours.
    #[arg(long, default_value_t = 24 * 14)]
    pub session_hours: u64,
    /// Milliseconds between the server's pings on a sync socket; a peer that
    /// answers nothing for two intervals is dropped (0 = no pings).
    #[arg(long, default_value_t = 10_000)]
    pub ping_interval_ms: u64,
    /// Sync sockets one user may have open at once (tabs, devices).
    #[arg(long, default_value_t = 64)]
    pub max_sockets_per_user: usize,
    /// Sync sockets open at once, in total.
    #[arg(long, default_value_t = 20_000)]
    pub max_sockets: usize,
    /// Origins besides the server's own that may open sync sockets
    /// (e.g. `https://xieshang.example`); comma-separated in the environment.
    #[arg(
        long = "allowed-origin",
        env = "XIESHANG_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Bytes of received messages one document may hold waiting for its owner;
    /// a connection that would exceed it waits (backpressure).
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub max_inflight_bytes_per_doc: usize,
    /// The committee named in the header of exported bulletins (建言献策).
    #[arg(long, default_value = "某某县政协", env = "XIESHANG_COMMITTEE_NAME")]
    pub committee_name: String,
    /// The office that sends bulletins; empty means "{committee}办公室".
    #[arg(long, default_value = "", env = "XIESHANG_OFFICE_NAME")]
    pub office_name: String,
    /// Whom bulletins are reported to, printed as "报：…" (none by default).
    #[arg(long, default_value = "", env = "XIESHANG_BULLETIN_REPORT_TO")]
    pub bulletin_report_to: String,
    /// Whom bulletins are sent to, printed as "送：…" (none by default).
    #[arg(long, default_value = "", env = "XIESHANG_BULLETIN_SEND_TO")]
    pub bulletin_send_to: String,
    // --- sign-in and headers ---
    /// Reverse proxies (IPs or CIDRs, comma separated) whose `X-Forwarded-For`
    /// names the client; from anyone else the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "XIESHANG_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<crate::auth::IpNet>,
    /// The URL users open, e.g. `https://xieshang.example.cn`; https marks the
    /// session cookie `Secure`.
    #[arg(long, env = "XIESHANG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Wrong passwords for one username from one address before each further
    /// attempt from there has to wait (other addresses are not affected).
    #[arg(long, default_value_t = 5)]
    pub signin_user_failures: u32,
    /// Failed sign-ins from one address, whatever the usernames, before each
    /// further attempt from that address has to wait.
    #[arg(long, default_value_t = 100)]
    pub signin_address_failures: u32,
    /// The first wait, in seconds; every further failure doubles it.
    #[arg(long, default_value_t = 1)]
    pub signin_delay_secs: u64,
    /// The longest wait, in seconds.
    #[arg(long, default_value_t = 900)]
    pub signin_max_delay_secs: u64,
}

impl Config {
    /// Defaults for an in-process server on `data` (tests and tools).
    pub fn for_data_dir(data: PathBuf) -> Config {
        let cli = Cli::parse_from(["xieshang", "serve", "--addr", "127.0.0.1:0"]);
        match cli.command {
            Command::Serve(mut c) => {
                c.storage.data = data;
                *c
            }
            Command::User(_) => unreachable!("parsed a serve command"),
        }
    }
}
