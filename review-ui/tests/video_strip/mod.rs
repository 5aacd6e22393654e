//! A video case in Chromium: the platform pushes a real FFmpeg-made video, the evidence store
//! keeps it encrypted with a strip of blurred greyscale keyframes made once by the bounded
//! FFmpeg child, and the case page shows the strip with the tiles inside the matched stretch
//! marked (visibly and in their text alternatives), never requesting the original (the
//! server's access log is the network log) until an audited reveal.

use super::*;
use takedown_core::messages::{SecondsRange, VideoMatchInfo};

/// A 6 s 160×120 test pattern at 30 fps, H.264 in MP4 (generated, never real material).
fn video() -> Vec<u8> {
    generated("testsrc=size=160x120:rate=30:duration=6")
}

fn generated(source: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
        ])
        .args(["-i", source])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-movflags", "+faststart"])
        .arg(&out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// A vPDQ match of `clip` (its own vPDQ as the post's hash) whose matched stretch in the post
/// is 2.0–3.0 s.
fn video_match(post: &str, clip: &[u8]) -> Match {
    let mut m = a_match(post, &"66".repeat(32));
    let hash = takedown_video::hash_bytes(clip, &Default::default()).unwrap();
    m.query_hash = takedown_core::vpdq::to_signal_string(&hash.frames);
    m.signal_type = SignalType::Vpdq;
    m.entry = format!("vpdq:{}", "66".repeat(32));
    m.match_id = match_id(post, "m1", "gifct", &m.entry);
    m.distance = 0;
    m.video = Some(VideoMatchInfo {
        query_match_percent: 33.3,
        compared_match_percent: 100.0,
        query_ranges: vec![SecondsRange {
            start: 2.0,
            end: 3.0,
        }],
    });
    m
}

fn requested(app: &App, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let log = app.requests.lock().unwrap();
    log.iter().filter(|p| wanted(p)).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_case_shows_its_blurred_strip_with_the_matched_frames_marked() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let clip = video();
    let (case_id, _) = app
        .store
        .ingest_match(&video_match("v1", &clip))
        .await
        .unwrap();
    // Another video is not this case's media: its vPDQ does not match the case's.
    let other = generated("mandelbrot=size=160x120:rate=30,trim=duration=6");
    let refused = app
        .evidence
        .push(&case_id, "platform", Some("video/mp4"), other)
        .await;
    assert!(
        matches!(
            refused,
            Err(takedown_review::evidence::PushError::HashMismatch(_))
        ),
        "{refused:?}"
    );
    let item = app
        .evidence
        .push(&case_id, "platform", Some("video/mp4"), clip.clone())
        .await
        .unwrap();
    // Stored once with its strip: one tile a second, at the hashed frames' times.
    assert_eq!(item.content_type.as_deref(), Some("video/mp4"));
    assert!(item.has_preview);
    assert_eq!(item.keyframes_ms, [0, 1000, 2000, 3000, 4000, 5000]);
    let sha = item.sha256.clone().unwrap();

    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    b.goto(&format!("{}/cases/{case_id}", app.base)).await;
    let probe = "return Array.prototype.map.call(document.querySelectorAll('ol.strip li'), \
                 function (li) { var i = li.querySelector('img'); \
                 return [i.complete && i.naturalWidth, i.getAttribute('src'), i.alt, \
                 li.classList.contains('matched'), getComputedStyle(li).borderTopColor]; })";
    let mut tiles = b.js(probe).await;
    for _ in 0..60 {
        let loaded = tiles
            .as_array()
            .is_some_and(|t| t.len() == 6 && t.iter().all(|x| x[0].as_u64().unwrap_or(0) > 0));
        if loaded {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        tiles = b.js(probe).await;
    }
    let tiles = tiles.as_array().unwrap().clone();
    assert_eq!(tiles.len(), 6, "{tiles:?}");
    for (i, t) in tiles.iter().enumerate() {
        // Each tile is the server's 128 px blurred JPEG, one route per tile.
        assert_eq!(t[0], json!(128), "tile {i}: {t}");
        assert_eq!(
            t[1].as_str().unwrap(),
            format!("/cases/{case_id}/evidence/{sha}/preview/{i}")
        );
        let matched = i == 2 || i == 3;
        assert_eq!(t[3], json!(matched), "tile {i}: {t}");
        let alt = t[2].as_str().unwrap();
        assert_eq!(
            alt,
            format!(
                "Blurred keyframe at 0:0{i}, {}",
                if matched { "matched" } else { "not matched" }
            )
        );
    }
    // The mark is visible: the matched tiles have a border the others do not.
    assert_ne!(tiles[2][4], tiles[0][4], "{tiles:?}");
    assert_eq!(tiles[2][4], tiles[3][4]);
    let caption = b.text(".strip-caption").await;
    assert!(
        caption.contains("2 of 6 inside the matched stretches"),
        "{caption}"
    );
    assert!(b.text(".video-match").await.contains("2.0–3.0 s"));
    b.screenshot("20-video-strip").await;

    // The original was never asked for, and a page load is no reveal.
    assert!(requested(&app, |p| p.ends_with("/original")).is_empty());
    let actions = audit_actions(&app.store, &case_id).await;
    assert!(
        !actions
            .iter()
            .any(|(a, _)| a == "evidence.revealed" || a == "evidence.read"),
        "{actions:?}"
    );
    // The tiles are server-made: the stored strip, cut, never the original's frames.
    let tile = app
        .evidence
        .evidence()
        .preview_tile(&sha, 2, 6)
        .await
        .unwrap();
    let img = image::load_from_memory(&tile).unwrap();
    assert!(
        matches!(img, image::DynamicImage::ImageLuma8(_)),
        "greyscale"
    );
    assert_eq!((img.width(), img.height()), (128, 96));

    // Reveal: now the original video is requested, by the user who revealed it, audited.
    b.click("figure.media .strip-caption").await;
    for _ in 0..100 {
        if !requested(&app, |p| p.ends_with("/original")).is_empty() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(!requested(&app, |p| p.ends_with("/original")).is_empty());
    // The read is audited once the original has been sent: wait for it.
    let mut actions = audit_actions(&app.store, &case_id).await;
    for _ in 0..100 {
        if actions.iter().any(|(a, _)| a == "evidence.read") {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        actions = audit_actions(&app.store, &case_id).await;
    }
    for wanted in ["evidence.revealed", "evidence.read"] {
        assert!(
            actions.iter().any(|(a, who)| a == wanted && who == "mia"),
            "{wanted} missing from {actions:?}"
        );
    }
    let src = b
        .js("var v = document.querySelector('figure.media video'); return v && v.getAttribute('src')")
        .await;
    assert_eq!(
        src.as_str().unwrap(),
        format!("/cases/{case_id}/evidence/{sha}/original")
    );
    b.screenshot("21-video-revealed").await;
    b.quit().await;

    // Over HTTP: the tile route knows only the strip's tiles.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = http_login(&http, &app.base, "mia").await;
    let beyond = http
        .get(format!(
            "{}/cases/{case_id}/evidence/{sha}/preview/6",
            app.base
        ))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 404);
}
