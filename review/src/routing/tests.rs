//! The routing rules, with every expected queue written by hand.

use super::*;

fn q(name: &str, roles: &[Role]) -> QueueDef {
    QueueDef {
        name: name.into(),
        title: name.to_uppercase(),
        roles: roles.to_vec(),
        qa_percent: 5.0,
    }
}

fn rule(when: Conditions, queue: &str) -> Rule {
    Rule {
        when,
        queue: queue.into(),
    }
}

/// orders (legal only), gifct-bomb (seniors), de (moderators), general (everyone).
fn config() -> RoutingConfig {
    RoutingConfig {
        version: 3,
        queues: vec![
            q("general", &[Role::Moderator, Role::SeniorModerator]),
            q("orders", &[Role::Legal]),
            q("gifct-bomb", &[Role::SeniorModerator]),
            q("de", &[Role::Moderator]),
            q(COMPLAINTS, &[Role::SeniorModerator]),
            q(QA, &[Role::Moderator]),
        ],
        rules: vec![
            rule(
                Conditions {
                    source: Some("removal_order".into()),
                    ..Conditions::default()
                },
                "orders",
            ),
            rule(
                Conditions {
                    list: Some("gifct".into()),
                    label: Some("bomb".into()),
                    ..Conditions::default()
                },
                "gifct-bomb",
            ),
            rule(
                Conditions {
                    language: Some("de".into()),
                    ..Conditions::default()
                },
                "de",
            ),
            rule(
                Conditions {
                    severity: Some("critical".into()),
                    jurisdiction: None,
                    ..Conditions::default()
                },
                "gifct-bomb",
            ),
            rule(
                Conditions {
                    jurisdiction: Some("AU".into()),
                    ..Conditions::default()
                },
                "orders",
            ),
        ],
        default_queue: "general".into(),
    }
}

fn input(source: &'static str) -> RouteInput {
    RouteInput {
        source,
        ..RouteInput::default()
    }
}

#[test]
fn the_first_matching_rule_wins_and_the_rest_go_to_the_default() {
    let c = config();
    let at = |i: RouteInput| {
        let r = c.route(&i);
        (r.queue, r.rule)
    };
    assert_eq!(at(input("removal_order")), ("orders".into(), Some(0)));
    let mut m = input("hash_match");
    m.lists = vec!["tat".into(), "gifct".into()];
    m.labels = vec!["flag".into(), "bomb".into()];
    assert_eq!(at(m.clone()), ("gifct-bomb".into(), Some(1)));
    // Both conditions of a rule must hold: the label alone is not enough.
    m.lists = vec!["tat".into()];
    assert_eq!(at(m.clone()), ("general".into(), None));
    // A later rule catches what earlier ones did not.
    m.severity = Some("critical".into());
    assert_eq!(at(m.clone()), ("gifct-bomb".into(), Some(3)));
    m.severity = Some("high".into());
    assert_eq!(at(m.clone()), ("general".into(), None));
    // An order from Germany in German: the source rule comes first.
    let mut o = input("removal_order");
    o.language = Some("de".into());
    assert_eq!(at(o), ("orders".into(), Some(0)));
    let mut n = input("notice");
    n.language = Some("de-AT".into());
    assert_eq!(at(n.clone()), ("de".into(), Some(2)));
    n.language = Some("DE".into());
    assert_eq!(at(n.clone()), ("de".into(), Some(2)));
    n.language = Some("den".into());
    assert_eq!(at(n.clone()), ("general".into(), None));
    n.language = None;
    assert_eq!(at(n), ("general".into(), None));
    // A rule naming a region matches that tag whole, in any case, and not its siblings.
    let mut regional = config();
    regional.rules[2].when.language = Some("de-AT".into());
    let lang = |l: &str| {
        let mut n = input("notice");
        n.language = Some(l.into());
        regional.route(&n).queue
    };
    assert_eq!(lang("de-at"), "de");
    assert_eq!(lang("de-DE"), "general");
    assert_eq!(lang("de"), "general");
    let mut au = input("au_removal_notice");
    au.jurisdiction = Some("AU".into());
    assert_eq!(at(au), ("orders".into(), Some(4)));
}

#[test]
fn complaints_go_to_their_queue_whatever_the_rules() {
    let mut c = config();
    c.rules.insert(0, rule(Conditions::default(), "de"));
    let r = c.route(&input("complaint"));
    assert_eq!((r.queue.as_str(), r.rule), (COMPLAINTS, None));
    // The catch-all rule takes everything else.
    assert_eq!(c.route(&input("notice")).queue, "de");
}

#[test]
fn access_follows_the_queue_admins_see_all_and_deleted_queues_fall_back() {
    let c = config();
    assert!(c.may_see(Some("orders"), Role::Legal));
    assert!(!c.may_see(Some("orders"), Role::Moderator));
    assert!(!c.may_see(Some("orders"), Role::SeniorModerator));
    assert!(c.may_see(Some("orders"), Role::Admin));
    assert!(!c.may_see(Some("de"), Role::SeniorModerator));
    // A queue deleted since (or a case from before routing) counts as the default.
    assert_eq!(c.effective(Some("gone")), "general");
    assert_eq!(c.effective(None), "general");
    assert_eq!(c.effective(Some("de")), "de");
    assert!(c.may_see(Some("gone"), Role::Moderator));
    assert!(!c.may_see(None, Role::Legal));
    assert!(!c.may_see(Some("general"), Role::Auditor));
    let names = |r: Role| -> Vec<String> { c.visible(r).iter().map(|q| q.name.clone()).collect() };
    assert_eq!(names(Role::Moderator), ["general", "de", "qa"]);
    assert_eq!(names(Role::Legal), ["orders"]);
    assert_eq!(names(Role::Admin).len(), 6);
    assert!(c.sees_all(Role::Admin));
    assert!(!c.sees_all(Role::SeniorModerator));
    let everyone = RoutingConfig {
        queues: vec![
            q("general", &[Role::Moderator]),
            q(COMPLAINTS, &[Role::Moderator]),
            q(QA, &[Role::Moderator]),
        ],
        ..RoutingConfig::default()
    };
    assert!(everyone.sees_all(Role::Moderator));
}

#[test]
fn qa_shares_are_per_queue_in_percent() {
    let mut c = config();
    c.queues[3].qa_percent = 50.0;
    assert_eq!(c.qa_share(Some("de")), 0.5);
    assert_eq!(c.qa_share(Some("orders")), 0.05);
    assert_eq!(c.qa_share(Some("gone")), 0.05);
    c.queues[0].qa_percent = 0.0;
    assert_eq!(c.qa_share(None), 0.0);
}

#[test]
fn the_built_in_configuration_is_valid_and_gives_seniors_the_complaints() {
    let c = RoutingConfig::default();
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(c.version, 0);
    assert!(c.may_see(Some(COMPLAINTS), Role::SeniorModerator));
    assert!(!c.may_see(Some(COMPLAINTS), Role::Moderator));
    assert!(c.may_see(Some(GENERAL), Role::Moderator));
    assert_eq!(c.qa_share(Some(GENERAL)), 0.05);
    assert_eq!(config().validate(), Ok(()));
}

fn field_of(c: &RoutingConfig) -> String {
    c.validate().map_or_else(|e| e.field, |()| "ok".into())
}

#[test]
fn invalid_configurations_name_their_field() {
    let base = config();
    let with = |f: &dyn Fn(&mut RoutingConfig)| {
        let mut c = base.clone();
        f(&mut c);
        field_of(&c)
    };
    assert_eq!(
        with(&|c| c.queues[1].name = "Orders".into()),
        "queues[1].name"
    );
    assert_eq!(with(&|c| c.queues[1].name = "".into()), "queues[1].name");
    assert_eq!(
        with(&|c| c.queues[1].name = "a".repeat(41)),
        "queues[1].name"
    );
    assert_eq!(
        with(&|c| c.queues[1].name = "a".repeat(40)),
        "rules[0].queue"
    );
    // The second of two queues of one name is the one refused.
    assert_eq!(with(&|c| c.queues[1].name = "de".into()), "queues[3].name");
    assert_eq!(with(&|c| c.queues[2].title = " ".into()), "queues[2].title");
    assert_eq!(
        with(&|c| c.queues[2].title = "t".repeat(81)),
        "queues[2].title"
    );
    assert_eq!(with(&|c| c.queues[2].title = "t".repeat(80)), "ok");
    assert_eq!(with(&|c| c.queues[0].roles.clear()), "queues[0].roles");
    assert_eq!(
        with(&|c| c.queues[0].roles.push(Role::Platform)),
        "queues[0].roles"
    );
    assert_eq!(
        with(&|c| c.queues[0].roles.push(Role::Admin)),
        "queues[0].roles"
    );
    assert_eq!(with(&|c| c.queues[0].roles.push(Role::Auditor)), "ok");
    assert_eq!(
        with(&|c| c.queues[0].qa_percent = 100.5),
        "queues[0].qa_percent"
    );
    assert_eq!(
        with(&|c| c.queues[0].qa_percent = -0.1),
        "queues[0].qa_percent"
    );
    assert_eq!(
        with(&|c| c.queues[0].qa_percent = f64::NAN),
        "queues[0].qa_percent"
    );
    assert_eq!(with(&|c| c.queues[0].qa_percent = 100.0), "ok");
    assert_eq!(with(&|c| c.queues[0].qa_percent = 0.0), "ok");
    assert_eq!(with(&|c| c.queues.retain(|q| q.name != QA)), "queues");
    assert_eq!(
        with(&|c| c.queues.retain(|q| q.name != COMPLAINTS)),
        "queues"
    );
    assert_eq!(with(&|c| c.default_queue = "nope".into()), "default_queue");
    assert_eq!(with(&|c| c.default_queue = QA.into()), "default_queue");
    assert_eq!(
        with(&|c| c.default_queue = COMPLAINTS.into()),
        "default_queue"
    );
    assert_eq!(with(&|c| c.default_queue = "de".into()), "ok");
    assert_eq!(
        with(&|c| c.rules[2].queue = "nope".into()),
        "rules[2].queue"
    );
    assert_eq!(with(&|c| c.rules[2].queue = QA.into()), "rules[2].queue");
    assert_eq!(
        with(&|c| c.rules[2].queue = COMPLAINTS.into()),
        "rules[2].queue"
    );
    assert_eq!(
        with(&|c| c.rules[1].when.source = Some("tweet".into())),
        "rules[1].when.source"
    );
    assert_eq!(
        with(&|c| c.rules[1].when.source = Some("complaint".into())),
        "rules[1].when.source"
    );
    assert_eq!(
        with(&|c| c.rules[1].when.label = Some(" bomb".into())),
        "rules[1].when.label"
    );
    assert_eq!(
        with(&|c| c.rules[1].when.list = Some("".into())),
        "rules[1].when.list"
    );
    assert_eq!(
        with(&|c| c.rules[1].when.jurisdiction = Some("x".repeat(201))),
        "rules[1].when.jurisdiction"
    );
    assert_eq!(
        with(&|c| c.rules[1].when.language = Some("x".repeat(200))),
        "ok"
    );
    assert_eq!(
        with(&|c| c.rules[1].when.severity = Some("x ".into())),
        "rules[1].when.severity"
    );
}

#[test]
fn bounds_hold_at_their_limits() {
    let mut c = config();
    while c.queues.len() < MAX_QUEUES {
        let n = c.queues.len();
        c.queues.push(q(&format!("q{n}"), &[Role::Moderator]));
    }
    assert_eq!(field_of(&c), "ok");
    c.queues.push(q("one-more", &[Role::Moderator]));
    assert_eq!(field_of(&c), "queues");
    let mut c = config();
    while c.rules.len() < MAX_RULES {
        c.rules.push(rule(Conditions::default(), "general"));
    }
    assert_eq!(field_of(&c), "ok");
    c.rules.push(rule(Conditions::default(), "general"));
    assert_eq!(field_of(&c), "rules");
}

#[test]
fn the_route_input_takes_the_most_severe_match_and_the_source_jurisdiction() {
    use crate::sla::{SlaClass, SlaConfig};
    use time::macros::datetime;
    let at = datetime!(2026-05-01 00:00 UTC);
    let m = |list: &str, labels: &[&str], severity: &str| MatchRecord {
        match_id: "m".into(),
        list_id: list.into(),
        entry: "pdq:e".into(),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        severity: severity.into(),
        distance: 0,
        query_hash: String::new(),
        list_hash: String::new(),
        matched_at: at,
        video: None,
    };
    let mut case = Case {
        id: "c".into(),
        subject: crate::model::Subject {
            platform: "web".into(),
            post_id: None,
            media_id: None,
            url: None,
            language: None,
        },
        sources: vec![Source::HashMatch],
        state: crate::model::CaseState::Open,
        rank: 5,
        senior_only: false,
        threat_to_life: false,
        sla: SlaConfig::default().start(SlaClass::HashMatch, at).unwrap(),
        embargo: None,
        decision: None,
        history: vec![],
        preservation: None,
        evidence_holds: vec![],
        created_at: at,
        first_claimed_at: None,
    };
    let input = RouteInput::of(
        &case,
        &[
            m("tat", &["a", "b"], "medium"),
            m("gifct", &["b", "c"], "critical"),
            m("tat", &["d"], "high"),
            m("x", &[], "weird"),
        ],
    );
    assert_eq!(input.source, "hash_match");
    assert_eq!(input.lists, ["tat", "gifct", "x"]);
    assert_eq!(input.labels, ["a", "b", "c", "d"]);
    assert_eq!(input.severity.as_deref(), Some("critical"));
    assert_eq!(input.jurisdiction, None);
    let low_first = RouteInput::of(&case, &[m("x", &[], "low"), m("y", &[], "high")]);
    assert_eq!(low_first.severity.as_deref(), Some("high"));
    let odd_first = RouteInput::of(&case, &[m("x", &[], "weird"), m("y", &[], "low")]);
    assert_eq!(odd_first.severity.as_deref(), Some("low"));
    // Each named severity outranks the next, and every name outranks an unknown one.
    let order = ["critical", "high", "medium", "low", "weird"];
    for (i, more) in order.iter().enumerate() {
        for less in &order[i + 1..] {
            for pair in [[more, less], [less, more]] {
                let got = RouteInput::of(&case, &[m("x", &[], pair[0]), m("y", &[], pair[1])]);
                assert_eq!(got.severity.as_deref(), Some(*more), "{pair:?}");
            }
        }
    }
    // Of two unknown names (equally unranked), the first seen stays.
    let unknown = RouteInput::of(&case, &[m("x", &[], "weird"), m("y", &[], "odd")]);
    assert_eq!(unknown.severity.as_deref(), Some("weird"));
    let same = RouteInput::of(&case, &[m("x", &[], "high"), m("y", &[], "high")]);
    assert_eq!(same.severity.as_deref(), Some("high"));
    assert_eq!(RouteInput::of(&case, &[]).severity, None);
    // The content's language comes from the case's subject; a language rule routes it.
    assert_eq!(input.language, None);
    case.subject.language = Some("de-AT".into());
    let german = RouteInput::of(&case, &[m("x", &[], "low")]);
    assert_eq!(german.language.as_deref(), Some("de-AT"));
    let mut by_language = RoutingConfig::default();
    by_language.queues.push(QueueDef {
        name: "de".into(),
        title: "German".into(),
        roles: vec![Role::Moderator],
        qa_percent: 5.0,
    });
    by_language.rules.push(rule(
        Conditions {
            language: Some("de".into()),
            ..Conditions::default()
        },
        "de",
    ));
    assert_eq!(by_language.route(&german).queue, "de");
    assert_eq!(by_language.route(&input).queue, GENERAL);
    case.subject.language = None;
    case.sources = vec![Source::RemovalOrder {
        order_id: "o".into(),
        reference: "r".into(),
        issuing_state: "FR".into(),
        cross_border: true,
    }];
    let order = RouteInput::of(&case, &[]);
    assert_eq!(
        (order.source, order.jurisdiction.as_deref()),
        ("removal_order", Some("FR"))
    );
    case.sources = vec![Source::AuRemovalNotice {
        reference: "r".into(),
        notice_id: "n".into(),
        section: None,
    }];
    let au = RouteInput::of(&case, &[]);
    assert_eq!(
        (au.source, au.jurisdiction.as_deref()),
        ("au_removal_notice", Some("AU"))
    );
    let names = [
        (
            Source::Notice {
                notice_id: "n".into(),
                trusted_flagger: true,
                flagger_id: None,
            },
            "trusted_notice",
        ),
        (
            Source::Notice {
                notice_id: "n".into(),
                trusted_flagger: false,
                flagger_id: None,
            },
            "notice",
        ),
        (
            Source::Complaint {
                complaint_id: "k".into(),
                against_case: "c".into(),
            },
            "complaint",
        ),
    ];
    for (source, name) in names {
        case.sources = vec![source];
        assert_eq!(source_name(&case), name);
    }
    case.sources.clear();
    assert_eq!(source_name(&case), "hash_match");
}

#[test]
fn an_empty_rule_matches_anything_and_reports_empty() {
    assert!(Conditions::default().is_empty());
    assert!(Conditions::default().matches(&input("notice")));
    let c = Conditions {
        language: Some("de".into()),
        ..Conditions::default()
    };
    assert!(!c.is_empty());
}

#[test]
fn configurations_parse_strictly() {
    let json = r#"{"version":2,"queues":[{"name":"general","title":"G","roles":["moderator"]}],
        "rules":[{"when":{"list":"gifct"},"queue":"general"}],"default_queue":"general"}"#;
    let c: RoutingConfig = serde_json::from_str(json).unwrap();
    assert_eq!(c.queues[0].qa_percent, 5.0);
    assert_eq!(c.rules[0].when.list.as_deref(), Some("gifct"));
    let unknown = json.replace("\"list\"", "\"lsit\"");
    assert!(serde_json::from_str::<RoutingConfig>(&unknown).is_err());
}
