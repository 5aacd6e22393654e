//! Kafka client properties from a file: how the roles reach a broker over TLS or SASL.
//!
//! Managed Kafka (MSK, Confluent Cloud, Aiven, Strimzi with TLS listeners) needs
//! `security.protocol`, `sasl.*` and `ssl.*` settings, and a SASL password must never be on a
//! command line or in the environment of a manifest. So the roles read librdkafka properties
//! from one file (`TAKEDOWN_KAFKA_PROPERTIES_FILE`, a mounted Secret): `key=value` lines,
//! `#` comments, applied to every consumer and producer the process makes. Keys Takedown
//! sets itself because its delivery guarantees depend on them (offsets, idempotence, acks,
//! the group) are refused, with the line named; values are never logged or echoed.

use anyhow::Context;
use std::path::Path;

/// The variable naming the properties file.
pub const ENV: &str = "TAKEDOWN_KAFKA_PROPERTIES_FILE";

/// Properties whose values Takedown's at-least-once delivery and consumer groups rely on.
const OWN: [&str; 10] = [
    "bootstrap.servers",
    "metadata.broker.list",
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "auto.offset.reset",
    "enable.idempotence",
    "acks",
    "request.required.acks",
    "isolation.level",
];

/// Why a properties file was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PropsError {
    /// A line that is not `key=value`.
    #[error("line {line}: expected `key=value` (a librdkafka property)")]
    Syntax {
        /// 1-based line number.
        line: usize,
    },
    /// A property Takedown sets itself.
    #[error("line {line}: `{key}` is set by Takedown (its delivery guarantees depend on it)")]
    Owned {
        /// 1-based line number.
        line: usize,
        /// The key.
        key: String,
    },
    /// The same key twice.
    #[error("line {line}: `{key}` is set twice")]
    Repeated {
        /// 1-based line number.
        line: usize,
        /// The key.
        key: String,
    },
}

/// Parses a properties text: `key=value` per line, blank lines and `#` comments ignored,
/// spaces around key and value trimmed.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, PropsError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (key, value) = trimmed.split_once('=').ok_or(PropsError::Syntax { line })?;
        let key = key.trim();
        let valid = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(PropsError::Syntax { line });
        }
        if OWN.contains(&key) {
            return Err(PropsError::Owned {
                line,
                key: key.to_string(),
            });
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(PropsError::Repeated {
                line,
                key: key.to_string(),
            });
        }
        out.push((key.to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// The properties of the file `path` names, or none without one.
pub fn load(path: Option<&Path>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {ENV} {}", path.display()))?;
    let props = parse(&text).with_context(|| format!("{ENV} {}", path.display()))?;
    // Keys only: values may be passwords.
    let keys: Vec<&str> = props.iter().map(|(k, _)| k.as_str()).collect();
    tracing::info!(keys = ?keys, "Kafka client properties loaded.");
    Ok(props)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_lines_with_comments_parse() {
        let text = "# SASL over TLS\nsecurity.protocol = SASL_SSL\n\nsasl.mechanisms=SCRAM-SHA-512\nsasl.username=takedown\nsasl.password=p=w#d\n";
        assert_eq!(
            parse(text).unwrap(),
            [
                ("security.protocol", "SASL_SSL"),
                ("sasl.mechanisms", "SCRAM-SHA-512"),
                ("sasl.username", "takedown"),
                ("sasl.password", "p=w#d"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn bad_lines_owned_and_repeated_keys_name_their_line() {
        assert_eq!(
            parse("security.protocol=SSL\nno equals sign\n"),
            Err(PropsError::Syntax { line: 2 })
        );
        assert_eq!(parse("=x\n"), Err(PropsError::Syntax { line: 1 }));
        assert_eq!(parse("a b=x\n"), Err(PropsError::Syntax { line: 1 }));
        assert_eq!(
            parse("# c\nenable.auto.commit=false\n"),
            Err(PropsError::Owned {
                line: 2,
                key: "enable.auto.commit".into()
            })
        );
        for key in OWN {
            assert!(
                matches!(parse(&format!("{key}=x")), Err(PropsError::Owned { .. })),
                "{key}"
            );
        }
        assert_eq!(
            parse("ssl.ca.location=/a\nssl.ca.location=/b\n"),
            Err(PropsError::Repeated {
                line: 2,
                key: "ssl.ca.location".into()
            })
        );
    }

    #[test]
    fn errors_never_echo_values() {
        let e = parse("sasl.password\n").unwrap_err().to_string();
        assert!(!e.contains("password"), "{e}");
        let e = parse("acks=hunter2\n").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
