//! The field-named validation error that every intake parser returns.
//!
//! Orders, notices, complaints, Australian notices and flagger registrations are each checked
//! field by field so the API can say exactly what is wrong (422). The error type lives here, below
//! all of them, so no parser has to import another to name it.

use serde::{Deserialize, Serialize};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON path of the field (`section_b.urls[1]`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl FieldError {
    /// A problem `reason` with `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Parses a request body that must be one JSON object, refusing duplicate keys at any depth
/// (JSON parsers disagree on which of two values wins, so a body with both is ambiguous: one
/// reader could see a URL the other does not). `Err` names the offending path (`$` for the
/// whole body).
pub fn json_object(body: &[u8]) -> Result<serde_json::Value, FieldError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let checked = serde::de::DeserializeSeed::deserialize(Unique("$".into()), &mut de)
        .and_then(|v| de.end().map(|()| v));
    match checked {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(FieldError::new("$", "must be a JSON object")),
        Err(e) => {
            let msg = e.to_string();
            match msg.strip_prefix("duplicate key ") {
                Some(rest) => {
                    let path = rest.split(" at line").next().unwrap_or(rest);
                    Err(FieldError::new(path, "given twice"))
                }
                None => Err(FieldError::new("$", format!("not JSON: {msg}"))),
            }
        }
    }
}

/// A JSON value whose objects may not repeat a key; carries its path for the error.
struct Unique(String);

impl<'de> serde::de::DeserializeSeed<'de> for Unique {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Unique {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Unique(format!("{}[{}]", self.0, out.len())))? {
            out.push(v);
        }
        Ok(out.into())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.0 == "$" {
                key.clone()
            } else {
                format!("{}.{key}", self.0)
            };
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key {path}")));
            }
            let v = map.next_value_seed(Unique(path))?;
            out.insert(key, v);
        }
        Ok(out.into())
    }
}

/// Refuses keys of `object` (at `path`) other than `allowed`: a misspelt field would otherwise
/// be dropped silently.
pub fn only_keys(
    object: &serde_json::Value,
    path: &str,
    allowed: &[&str],
    errors: &mut Vec<FieldError>,
) {
    if let serde_json::Value::Object(map) = object {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                errors.push(FieldError::new(field, "unknown field"));
            }
        }
    }
}

/// Officially assigned ISO 3166-1 alpha-2 codes.
pub const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Whether `s` is an officially assigned ISO 3166-1 alpha-2 code (so `XX` and the EU's `EL`
/// for Greece are not).
pub fn is_country_code(s: &str) -> bool {
    ISO_3166_ALPHA2.binary_search(&s).is_ok()
}

/// Whether `u` is an absolute `http`/`https` URL with a host, at most `max` bytes, with no
/// whitespace, control characters or characters that are never raw in a URL (`<>"{}|\^` and
/// backtick); `Err` says why not.
pub fn check_url(u: &str, max: usize) -> Result<(), &'static str> {
    if u.len() > max {
        return Err("longer than the limit for a URL");
    }
    if u.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
    {
        return Err("contains whitespace, control or markup characters");
    }
    let lower = u.to_ascii_lowercase();
    let rest = match lower
        .strip_prefix("https://")
        .or(lower.strip_prefix("http://"))
    {
        Some(rest) => rest,
        None => return Err("an absolute http(s) URL"),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if host.is_empty() || host.starts_with('.') || host.ends_with("..") {
        return Err("an absolute http(s) URL with a host");
    }
    if authority.contains('@') {
        return Err("must not carry a user name or password");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_path() {
        assert_eq!(
            json_object(br#"{"a": 1, "a": 2}"#).unwrap_err(),
            FieldError::new("a", "given twice")
        );
        assert_eq!(
            json_object(br#"{"section_b": {"urls": ["https://x.example/1"], "urls": []}}"#)
                .unwrap_err()
                .field,
            "section_b.urls"
        );
        assert_eq!(
            json_object(br#"{"l": [{"k": 1, "k": 1}]}"#)
                .unwrap_err()
                .field,
            "l[0].k"
        );
        assert_eq!(
            json_object(br#"{"a": {"b": 1}, "c": [1, 2.5, null, true, "x"]}"#).unwrap(),
            serde_json::json!({"a": {"b": 1}, "c": [1, 2.5, null, true, "x"]})
        );
        assert_eq!(
            json_object(b"[1]").unwrap_err().reason,
            "must be a JSON object"
        );
        assert_eq!(json_object(b"{} {}").unwrap_err().field, "$");
        assert!(
            json_object(b"{")
                .unwrap_err()
                .reason
                .starts_with("not JSON")
        );
    }

    #[test]
    fn country_codes_are_the_assigned_ones() {
        let mut sorted = ISO_3166_ALPHA2;
        sorted.sort_unstable();
        assert_eq!(sorted, ISO_3166_ALPHA2, "sorted for binary search");
        for ok in ["GR", "DE", "AU", "US", "AD", "ZW"] {
            assert!(is_country_code(ok), "{ok}");
        }
        for bad in ["EL", "XX", "EU", "UK", "gr", "G", "GRC", ""] {
            assert!(!is_country_code(bad), "{bad}");
        }
    }

    #[test]
    fn urls_need_a_scheme_a_host_and_no_markup() {
        for ok in [
            "https://example.org/a?b=c#d",
            "http://example.org",
            "https://[2001:db8::1]:8443/x",
            "HTTPS://EXAMPLE.ORG/",
        ] {
            assert_eq!(check_url(ok, 2048), Ok(()), "{ok}");
        }
        for bad in [
            "http:///////",
            "https://",
            "https:///path",
            "ftp://example.org/x",
            "https://example.org/<script>",
            "https://exa mple.org/",
            "https://example.org/\u{7}",
            "https://user:pw@example.org/",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad, 2048).is_err(), "{bad}");
        }
        assert!(check_url(&format!("https://example.org/{}", "a".repeat(3000)), 2048).is_err());
    }
}

#[cfg(test)]
mod mutation_tests;
