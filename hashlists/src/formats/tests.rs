//! Format round trips and error locations.

use super::*;
use crate::model::Entry;
use takedown_core::SignalType;

const PDQ: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn read_all(format: Format, text: &str) -> (Vec<Record>, Vec<RecordError>, PageInfo) {
    let parsed = read(format, std::io::Cursor::new(text.as_bytes().to_vec())).expect("document");
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for r in parsed.records {
        match r {
            Ok(r) => ok.push(r),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad, parsed.page)
}

fn entry(t: SignalType, v: &str, labels: &[&str]) -> Entry {
    let mut e = Entry::new(t, v).unwrap();
    e.add_labels(labels.iter().map(|s| s.to_string()));
    e
}

fn round_trip(format: Format, entries: &[Entry]) {
    let mut out = Vec::new();
    let page = PageInfo {
        checkpoint: Some("42".into()),
        ..PageInfo::default()
    };
    write(format, entries.iter(), &mut out, &page).unwrap();
    let text = String::from_utf8(out).unwrap();
    let (ok, bad, info) = read_all(format, &text);
    assert!(bad.is_empty(), "{format}: {bad:?}\n{text}");
    let back: Vec<Entry> = ok.into_iter().map(|r| r.entry).collect();
    assert_eq!(back, entries, "{format} round trip:\n{text}");
    if format == Format::Tat {
        assert_eq!(info.checkpoint.as_deref(), Some("42"));
    }
}

#[test]
fn every_format_round_trips_what_it_can_carry() {
    let plain = vec![
        entry(SignalType::Pdq, PDQ, &[]),
        entry(SignalType::Md5, MD5, &[]),
        entry(SignalType::Sha256, SHA256, &[]),
    ];
    round_trip(Format::Plain, &plain);

    let csv = vec![
        entry(
            SignalType::Pdq,
            PDQ,
            &["collab:gifct", "category:terrorism", "media_type_photo"],
        ),
        entry(SignalType::Md5, MD5, &["tag-a", "tag-b"]),
    ];
    round_trip(Format::Csv, &csv);

    let mut tat = vec![
        entry(
            SignalType::Pdq,
            PDQ,
            &["ideology:example", "file_type:image"],
        ),
        entry(SignalType::Sha256, SHA256, &["file_type:video"]),
    ];
    tat[0].source_id = Some("1001".into());
    tat[0].source_created = Some("2026-01-02T03:04:05Z".into());
    tat[0].source_updated = Some("2026-02-02T03:04:05Z".into());
    tat[1].source_id = Some("7".into());
    round_trip(Format::Tat, &tat);

    let mut te = vec![entry(
        SignalType::Pdq,
        PDQ,
        &["media_type_photo", "terrorism"],
    )];
    te[0].source_id = Some("4242".into());
    te[0].source_created = Some("2026-01-01T00:00:00+0000".into());
    round_trip(Format::Te, &te);

    let mut full = entry(SignalType::Pdq, PDQ, &["anything", "ideology:x"]);
    full.pdq_quality = Some(87);
    full.source_id = Some("s1".into());
    full.disabled = Some(crate::model::Disabled {
        reason: "stock photo".into(),
        actor: "ana".into(),
        at_ms: 5,
        until_ms: Some(9),
    });
    full.added_version = Some(3);
    round_trip(
        Format::Jsonl,
        &[full, entry(SignalType::Sha512, &"ab".repeat(64), &[])],
    );
}

#[test]
fn vpdq_entries_round_trip_through_every_format_that_names_types() {
    // Two frames of Meta's reference hashes of a sample video, as a pytx signal string.
    let value = format!(r#"["{PDQ},100,0.0","{}{},87,1.0"]"#, &PDQ[..60], "ffff");
    let video = entry(SignalType::Vpdq, &value, &["media_type_video"]);
    assert_eq!(video.signal_type, SignalType::Vpdq);
    for format in [Format::Csv, Format::Te, Format::Jsonl] {
        round_trip(format, std::slice::from_ref(&video));
    }
    // Tech Against Terrorism's format carries its own labels and an id per entry.
    let mut tat = entry(SignalType::Vpdq, &value, &["file_type:video"]);
    tat.source_id = Some("7".into());
    round_trip(Format::Tat, &[tat]);
    // As pytx's CSV dataset output names it, with the string quoted for its commas.
    let csv = format!(
        "vpdq,\"{}\",media_type_video\r\n",
        value.replace('"', "\"\"")
    );
    let (ok, bad, _) = read_all(Format::Csv, &csv);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(ok[0].entry.signal_type, SignalType::Vpdq);
    assert_eq!(ok[0].entry.value, video.value);
    // A broken frame is an error on its line, not an entry.
    let (ok, bad, _) = read_all(Format::Csv, "vpdq,\"[\"\"abc,100,0.0\"\"]\",x\r\n");
    assert!(ok.is_empty(), "{ok:?}");
    assert_eq!(bad.len(), 1);
    assert!(bad[0].to_string().contains("line 1"), "{}", bad[0]);
}

#[test]
fn plain_errors_name_the_line() {
    let text = format!(
        "# comment\npdq {PDQ}\n\nmd5 nothex\ntmk {MD5}\npdq\nmd5 {MD5} extra\nPDQ {}\n",
        PDQ.to_uppercase()
    );
    let (ok, bad, _) = read_all(Format::Plain, &text);
    assert_eq!(ok.len(), 3, "good lines survive next to bad ones");
    assert_eq!(ok[2].entry.value, PDQ, "uppercase is canonicalised");
    // What follows the hash is `threatexchange dataset -P`'s category (and tags).
    assert_eq!(ok[1].entry.labels, ["category:extra"]);
    let lines: Vec<String> = bad.iter().map(|e| e.location.to_string()).collect();
    assert_eq!(lines, ["line 4", "line 5", "line 6"]);
    assert!(bad[0].reason.contains("32 hex characters"), "{}", bad[0]);
    assert!(bad[1].reason.contains("unknown signal type"), "{}", bad[1]);
    assert_eq!(
        bad.iter().map(|e| e.skipped).collect::<Vec<_>>(),
        [false, true, false],
        "an unknown type is a warning, a bad value an error"
    );
}

#[test]
fn pytx_plain_variants_bom_dataset_output_and_bare_hashes() {
    let text = format!(
        "\u{feff}pdq {PDQ} 'Sample Signals' INVESTIGATION_SEED tag1,tag2\r\n\
         video_md5 {MD5} POSITIVE_CLASS\r\n\
         {MD5}\r\n\
         raw_text The quick brown fox 'Sample Signals' INVESTIGATION_SEED\r\n\
         {SHA256}\r\n"
    );
    let (ok, bad, _) = read_all(Format::Plain, &text);
    assert_eq!(ok.len(), 4, "{bad:?}");
    assert_eq!(
        ok[0].entry.labels,
        [
            "category:INVESTIGATION_SEED",
            "collab:Sample Signals",
            "tag1",
            "tag2"
        ]
    );
    assert_eq!(ok[1].entry.signal_type, SignalType::Md5);
    assert_eq!(
        ok[1].entry.labels,
        ["category:POSITIVE_CLASS", "media_type_video"]
    );
    assert_eq!(
        ok[2].entry.signal_type,
        SignalType::Md5,
        "32 hex characters: MD5"
    );
    assert_eq!(ok[3].entry.signal_type, SignalType::RawText);
    assert_eq!(ok[3].entry.value, "The quick brown fox");
    assert_eq!(
        ok[3].entry.labels,
        ["category:INVESTIGATION_SEED", "collab:Sample Signals"]
    );
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].location, Location::Line(5));
    assert!(!bad[0].skipped);
    assert!(bad[0].reason.contains("pdq or sha256"), "{}", bad[0]);
    // Told the type, a bare 64-character hash reads.
    let options = ReadOptions {
        signal_type: Some(SignalType::Sha256),
        ..ReadOptions::default()
    };
    let parsed = read_with(
        Format::Plain,
        std::io::Cursor::new(format!("{SHA256}\n").into_bytes()),
        options,
    )
    .unwrap();
    let got: Vec<_> = parsed
        .records
        .map(|r| r.unwrap().entry.signal_type)
        .collect();
    assert_eq!(got, [SignalType::Sha256]);
}

#[test]
fn csv_line_numbers_hold_with_bom_crlf_blank_lines_and_skipped_types() {
    let text = format!(
        "\u{feff}signal_type,signal_str,collab,category,tags\r\n\r\n\
         trend_query,\"{{\"\"and\"\": []}}\",c,cat,\r\n\
         pdq,{PDQ},c,cat,a b\r\n\
         pdq,nothex,c,cat,\r\n"
    );
    let (ok, bad, _) = read_all(Format::Csv, &text);
    assert_eq!(ok.len(), 1, "the BOM'd header is a header: {bad:?}");
    assert_eq!(ok[0].entry.labels, ["a", "b", "category:cat", "collab:c"]);
    let at: Vec<_> = bad
        .iter()
        .map(|e| (e.location.to_string(), e.skipped))
        .collect();
    assert_eq!(
        at,
        [("line 3".to_string(), true), ("line 5".to_string(), false)]
    );
}

#[test]
fn csv_export_ends_lines_in_crlf_and_refuses_a_tag_with_a_space() {
    let mut out = Vec::new();
    let video = entry(SignalType::Md5, MD5, &["media_type_video", "x"]);
    write(Format::Csv, [video].iter(), &mut out, &PageInfo::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        format!("signal_type,signal_str,collab,category,tags\r\nvideo_md5,{MD5},,,x\r\n")
    );
    let spaced = entry(SignalType::Pdq, PDQ, &["two words"]);
    let err = write(
        Format::Csv,
        [spaced].iter(),
        &mut Vec::new(),
        &PageInfo::default(),
    );
    assert!(err.unwrap_err().to_string().contains("holds a space"));
}

#[test]
fn csv_errors_name_the_line_and_field() {
    let text = format!(
        "signal_type,signal_str,collab,category,tags\npdq,{PDQ},c,cat,a b\nmd5,xyz\nbogus,{MD5}\n"
    );
    let (ok, bad, _) = read_all(Format::Csv, &text);
    assert_eq!(ok.len(), 1);
    assert_eq!(bad.len(), 2);
    assert_eq!(bad[0].location, Location::Line(3));
    assert!(bad[0].reason.starts_with("signal_str:"), "{}", bad[0]);
    assert_eq!(bad[1].location, Location::Line(4));
    assert!(bad[1].reason.starts_with("signal_type:"), "{}", bad[1]);
}

#[test]
fn tat_errors_name_the_json_path_and_deletions_are_kept() {
    let text = format!(
        r#"{{"count": 4, "next": "http://x/page2", "checkpoint": 1700000000,
            "results": [
              {{"hash_digest": "{PDQ}", "algorithm": "PDQ", "ideology": "x", "file_type": "image", "deleted": false, "id": 1}},
              {{"hash_digest": "{MD5}", "algorithm": "MD5", "deleted": true, "id": 2}},
              {{"hash_digest": "{MD5}", "algorithm": "CRC32", "id": 3}},
              {{"algorithm": "MD5", "id": 4}}
            ]}}"#
    );
    let (ok, bad, page) = read_all(Format::Tat, &text);
    assert_eq!(page.checkpoint.as_deref(), Some("1700000000"));
    assert_eq!(page.next.as_deref(), Some("http://x/page2"));
    assert_eq!(ok.len(), 2);
    assert!(ok[1].deleted);
    assert_eq!(ok[0].entry.labels, ["file_type:image", "ideology:x"]);
    assert_eq!(
        bad[0].location,
        Location::Json("results[2].algorithm".into())
    );
    assert_eq!(bad[1].location, Location::Json("results[3]".into()));
    assert!(bad[1].reason.contains("hash_digest"), "{}", bad[1]);
}

#[test]
fn te_accepts_graph_api_tag_objects() {
    let text = format!(
        r#"{{"data": [{{"id": "77", "raw_indicator": "{PDQ}", "type": "HASH_PDQ",
             "tags": {{"data": [{{"text": "media_type_photo"}}]}}}},
             {{"raw_indicator": "{MD5}", "type": "HASH_URL"}}]}}"#
    );
    let (ok, bad, _) = read_all(Format::Te, &text);
    assert_eq!(ok[0].entry.labels, ["media_type_photo"]);
    assert_eq!(ok[0].entry.source_id.as_deref(), Some("77"));
    assert_eq!(bad[0].location, Location::Json("data[1].type".into()));
}

#[test]
fn unreadable_documents_are_errors() {
    assert!(read(Format::Tat, std::io::Cursor::new(b"{not json".to_vec())).is_err());
    assert!(read(Format::Te, std::io::Cursor::new(b"[]".to_vec())).is_err());
    let (_, bad, _) = read_all(Format::Jsonl, "{\"signal_type\": \"pdq\"}\n");
    assert_eq!(bad[0].location, Location::Line(1));
}

#[test]
fn text_rules_keep_their_spaces_and_bad_patterns_name_the_line() {
    let rule = entry(SignalType::TextRegex, r"join (our|the) channel @\w+", &[]);
    for format in [Format::Plain, Format::Csv, Format::Jsonl] {
        round_trip(format, std::slice::from_ref(&rule));
    }
    let (ok, bad, _) = read_all(
        Format::Plain,
        "text_regex https?://outlet\\.example/\\S+\ntext_regex (unclosed\nregex \n",
    );
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].entry.signal_type, SignalType::TextRegex);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad[0].to_string().contains("line 2"), "{}", bad[0]);
    assert!(
        bad[0].to_string().contains("text_regex pattern"),
        "{}",
        bad[0]
    );
    assert!(bad[1].to_string().contains("line 3"), "{}", bad[1]);
}

#[test]
fn an_unterminated_csv_quote_is_an_error_on_its_line_and_eats_nothing_after_it() {
    let text = format!(
        "pdq,{PDQ},c,\"cat,oops\nmd5,{MD5},c,cat,a\nmd5,xyz\nsha256,{SHA256}\nmd5,{MD5},\"unclosed"
    );
    let (ok, bad, _) = read_all(Format::Csv, &text);
    let kinds: Vec<SignalType> = ok.iter().map(|r| r.entry.signal_type).collect();
    assert_eq!(kinds, [SignalType::Md5, SignalType::Sha256], "{ok:?}");
    assert_eq!(ok[0].entry.labels, ["a", "category:cat", "collab:c"]);
    let lines: Vec<&Location> = bad.iter().map(|e| &e.location).collect();
    assert_eq!(
        lines,
        [&Location::Line(1), &Location::Line(3), &Location::Line(5)],
        "{bad:?}"
    );
    assert!(bad[0].reason.contains("quoted field"), "{}", bad[0]);
    assert!(bad[2].reason.contains("quoted field"), "{}", bad[2]);
}

#[test]
fn csv_quotes_must_be_well_formed() {
    for (line, why) in [
        (format!("md5,{MD5},\"c\"x,cat"), "after a closing quote"),
        (
            format!("md5,{MD5},c\"x,cat"),
            "quote inside an unquoted field",
        ),
    ] {
        let (ok, bad, _) = read_all(Format::Csv, &line);
        assert!(ok.is_empty(), "{line}: {ok:?}");
        assert!(bad[0].reason.contains(why), "{line}: {}", bad[0]);
    }
    let (ok, bad, _) = read_all(
        Format::Csv,
        &format!("md5,{MD5},\"a \"\"b\"\", c\",cat\r\n"),
    );
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(ok[0].entry.labels, ["category:cat", "collab:a \"b\", c"]);
}

#[test]
fn an_over_long_line_is_an_error_and_the_next_line_is_read() {
    let long = "a".repeat(MAX_LINE_BYTES + 10);
    for format in [Format::Plain, Format::Csv, Format::Jsonl] {
        let good = match format {
            Format::Plain => format!("md5 {MD5}"),
            Format::Csv => format!("md5,{MD5}"),
            _ => format!("{{\"signal_type\": \"md5\", \"value\": \"{MD5}\"}}"),
        };
        let text = format!("{good}\n{long}\n{good}\n{long}");
        let (ok, bad, _) = read_all(format, &text);
        assert_eq!(ok.len(), 2, "{format}: {bad:?}");
        let lines: Vec<&Location> = bad.iter().map(|e| &e.location).collect();
        assert_eq!(lines, [&Location::Line(2), &Location::Line(4)], "{format}");
        assert!(
            bad[0].reason.contains("longer than"),
            "{format}: {}",
            bad[0]
        );
    }
}

#[test]
fn csv_export_neutralises_formulas_and_reads_them_back() {
    let entries = vec![
        entry(
            SignalType::Md5,
            MD5,
            &[
                "collab:=HYPERLINK(\"http://x\")",
                "category:+1",
                "-2",
                "@SUM(A1)",
            ],
        ),
        entry(
            SignalType::Pdq,
            PDQ,
            &["collab:'=already", "category:'plain"],
        ),
        entry(SignalType::TextRegex, "=cmd|' /C calc'!A0", &[]),
    ];
    let mut out = Vec::new();
    write(Format::Csv, entries.iter(), &mut out, &PageInfo::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    for line in text.lines().skip(1) {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "cell {cell:?} in {line:?}"
            );
        }
    }
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(text.contains("''=already"), "{text}");
    assert!(text.contains(",'plain,"), "{text}");
    round_trip(Format::Csv, &entries);
}

#[test]
fn json_documents_over_the_cap_are_refused() {
    let text = format!(
        r#"{{"results": [{{"hash_digest": "{MD5}", "algorithm": "MD5"}}], "pad": "{}"}}"#,
        "x".repeat(4096)
    );
    let small = ReadOptions {
        max_document_bytes: 1024,
        ..ReadOptions::default()
    };
    let err = read_with(
        Format::Tat,
        std::io::Cursor::new(text.clone().into_bytes()),
        small,
    )
    .err()
    .expect("refused");
    assert!(err.reason.contains("larger than 1024 bytes"), "{err}");
    let (ok, bad, _) = read_all(Format::Tat, &text);
    assert_eq!((ok.len(), bad.len()), (1, 0));
}

#[test]
fn tat_export_is_what_pytx_reads_and_numbers_import_as_text() {
    // As the API (and pytx) type them: numeric id and updated_on, ISO created_on.
    let page = r#"{"count": 2, "next": null, "previous": null, "checkpoint": "1704085200,124",
        "results": [
        {"hash_digest": "D41D8CD98F00B204E9800998ECF8427E", "algorithm": "MD5", "ideology": null,
         "file_type": "mp4", "deleted": false, "updated_on": 1704085100.5,
         "created_on": "2024-01-01T05:00:00Z", "id": 99},
        {"hash_digest": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "algorithm": "SHA-256", "ideology": "far-right", "file_type": null, "deleted": true,
         "updated_on": 1704085200, "created_on": null, "id": 124}]}"#;
    let (ok, bad, info) = read_all(Format::Tat, page);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(info.checkpoint.as_deref(), Some("1704085200,124"));
    assert_eq!(ok[0].entry.source_updated.as_deref(), Some("1704085100.5"));
    assert_eq!(ok[0].entry.source_id.as_deref(), Some("99"));
    assert_eq!(ok[0].entry.labels, ["file_type:mp4", "media_type_video"]);
    assert_eq!(ok[1].entry.source_created, None);
    assert!(ok[1].deleted);

    // Exported: every key of every result, numbers where they are numbers, an id for an
    // entry without one (past the largest), the checkpoint of the latest result.
    let mut no_id = entry(SignalType::Pdq, PDQ, &[]);
    no_id.source_updated = Some("not a number".into());
    let entries = [ok[0].entry.clone(), ok[1].entry.clone(), no_id];
    let mut out = Vec::new();
    let given = PageInfo {
        checkpoint: Some("7".into()),
        ..PageInfo::default()
    };
    write(Format::Tat, entries.iter(), &mut out, &given).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["previous"], serde_json::Value::Null);
    assert!(doc.as_object().unwrap().contains_key("previous"));
    assert_eq!(doc["checkpoint"], "1704085200,124");
    let keys = [
        "algorithm",
        "created_on",
        "deleted",
        "file_type",
        "hash_digest",
        "id",
        "ideology",
        "updated_on",
    ];
    for r in doc["results"].as_array().unwrap() {
        let mut have: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        have.sort();
        assert_eq!(have, keys);
    }
    assert_eq!(doc["results"][0]["id"], 99);
    assert_eq!(doc["results"][0]["updated_on"], 1704085100.5);
    assert_eq!(doc["results"][1]["updated_on"], 1704085200);
    assert_eq!(doc["results"][1]["ideology"], "far-right");
    assert_eq!(doc["results"][2]["id"], 125);
    assert_eq!(doc["results"][2]["updated_on"], "not a number");
    assert_eq!(doc["results"][2]["file_type"], serde_json::Value::Null);

    // Without a numeric updated_on the given checkpoint stands.
    let mut out = Vec::new();
    write(Format::Tat, entries[2..].iter(), &mut out, &given).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["checkpoint"], "7");
}

#[test]
fn pytx_url_and_text_types_import_and_round_trip() {
    let url = "https://outlet.example/release?id=7";
    let text = "Join the fight, brothers: the caliphate calls";
    let entries = vec![
        entry(SignalType::Url, url, &[]),
        entry(SignalType::UrlMd5, MD5, &[]),
        entry(SignalType::RawText, text, &[]),
    ];
    for format in [Format::Plain, Format::Csv, Format::Jsonl] {
        round_trip(format, &entries);
    }
    // TAT and TE carry ids (an export numbers entries without one).
    let mut with_ids = entries.clone();
    for (i, e) in with_ids.iter_mut().enumerate() {
        e.source_id = Some((i + 1).to_string());
    }
    round_trip(Format::Tat, &with_ids);
    round_trip(Format::Te, &with_ids);
    // As pytx's CSV writes them; the URL MD5 in upper case is lowered.
    let csv = format!(
        "signal_type,signal_str,collab,category,tags\r\n\
         url,{url},c,cat,\r\n\
         url_md5,{},c,cat,\r\n\
         raw_text,\"{text}, again\",c,cat,x\r\n\
         raw_text,!?,c,cat,\r\n\
         url,https://a.example/x y,c,cat,\r\n",
        MD5.to_uppercase()
    );
    let (ok, bad, _) = read_all(Format::Csv, &csv);
    let got: Vec<(SignalType, &str)> = ok
        .iter()
        .map(|r| (r.entry.signal_type, r.entry.value.as_str()))
        .collect();
    let again = format!("{text}, again");
    assert_eq!(
        got,
        [
            (SignalType::Url, url),
            (SignalType::UrlMd5, MD5),
            (SignalType::RawText, again.as_str())
        ]
    );
    let at: Vec<(String, bool)> = bad
        .iter()
        .map(|e| (e.location.to_string(), e.skipped))
        .collect();
    assert_eq!(at, [("line 5".into(), false), ("line 6".into(), false)]);
    assert!(bad[0].reason.contains("no letter or digit"), "{}", bad[0]);
    assert!(bad[1].reason.contains("whitespace"), "{}", bad[1]);
    // ThreatExchange's indicator types.
    let te = r#"{"data":[
        {"id":"1","type":"URI","raw_indicator":"https://outlet.example/"},
        {"id":"2","type":"TEXT_STRING","raw_indicator":"the caliphate calls"},
        {"id":"3","type":"HASH_URL_MD5","raw_indicator":"d35c785545392755e7e4164457657269"}]}"#;
    let (ok, bad, _) = read_all(Format::Te, te);
    assert!(bad.is_empty(), "{bad:?}");
    let types: Vec<SignalType> = ok.iter().map(|r| r.entry.signal_type).collect();
    assert_eq!(
        types,
        [SignalType::Url, SignalType::RawText, SignalType::UrlMd5]
    );
}

#[test]
fn a_quotation_in_a_plain_raw_text_is_not_taken_for_a_collab() {
    let text = "raw_text he said 'come' to all\n\
                raw_text he said 'come' to all 'Sample Signals' INVESTIGATION_SEED\n";
    let (ok, bad, _) = read_all(Format::Plain, text);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(ok[0].entry.value, "he said 'come' to all");
    assert!(ok[0].entry.labels.is_empty());
    assert_eq!(ok[1].entry.value, "he said 'come' to all");
    assert_eq!(
        ok[1].entry.labels,
        ["category:INVESTIGATION_SEED", "collab:Sample Signals"]
    );
}
