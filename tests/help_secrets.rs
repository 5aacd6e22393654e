//! `--help` must never print a secret: clap's `env` shows an argument's current environment
//! value in the help text, and Redis URLs, broker lists and webhook URLs may hold passwords.
//! Every subcommand's help is run with secret-bearing values in the environment.

use std::process::Command;

const SECRET: &str = "s3cret";

/// The help text of `takedown <path> --help`, with secrets in the environment.
fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_takedown"))
        .args(path)
        .arg("--help")
        .env(
            "TAKEDOWN_REDIS_URL",
            format!("redis://:{SECRET}@127.0.0.1/"),
        )
        .env(
            "TAKEDOWN_BROKERS",
            format!("sasl_ssl://user:{SECRET}@127.0.0.1:9092"),
        )
        .env(
            "TAKEDOWN_WEBHOOK_URL",
            format!("https://hooks.example/{SECRET}"),
        )
        .env("TAKEDOWN_WEBHOOK_SECRET", SECRET)
        .env("TAKEDOWN_SYNC_TOKEN", SECRET)
        .env("TAKEDOWN_USER_PASSWORD", SECRET)
        .output()
        .expect("run takedown");
    assert!(out.status.success(), "takedown {path:?} --help failed");
    let mut text = String::from_utf8(out.stdout).unwrap();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// The subcommands a help text lists under `Commands:`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn no_help_text_shows_a_secret_from_the_environment() {
    let mut todo = vec![Vec::<String>::new()];
    let mut seen = 0;
    while let Some(path) = todo.pop() {
        let text = help(&path);
        seen += 1;
        assert!(
            !text.contains(SECRET),
            "`takedown {} --help` shows a secret:\n{text}",
            path.join(" ")
        );
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
    }
    assert!(
        seen > 10,
        "only {seen} help texts: is the subcommand walk broken?"
    );
}
