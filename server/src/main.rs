//! `xieshang`: serve, or manage users. See `xieshang --help`.

use std::io::Read;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;
use xieshang_server::config::{Cli, Command, UserCommand};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => serve(*config).await,
        Command::User(UserCommand::Add(args)) => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let user = xieshang_server::cli::add_user_cli(&args, password).await?;
            println!(
                "added user {} (id {}, role {})",
                user.username,
                user.id,
                user.role.as_str()
            );
            Ok(())
        }
    }
}

async fn serve(config: xieshang_server::Config) -> anyhow::Result<()> {
    let demo = config.demo;
    let storage = config.storage.clone();
    if demo {
        let db =
            xieshang_server::db::Db::open(&storage.data, storage.database_url.as_deref()).await?;
        match xieshang_server::demo::seed(&db).await? {
            Some(logins) => xieshang_server::demo::print_logins(&logins),
            None => println!("demo: the database already has users; nothing seeded"),
        }
        db.close().await;
    }
    let server = xieshang_server::server::start_with(config, true).await?;
    // Tests and tools wait for exactly this line.
    println!("xieshang listening on http://{}", server.addr);
    tracing::info!(addr = %server.addr, backend = server.state.db.backend(), "serving");
    server.wait().await;
    Ok(())
}
