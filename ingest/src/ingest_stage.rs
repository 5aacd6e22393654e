//! The ingest stage: from a post to its signals.
//!
//! For each post on `posts`: validate it, get each media item (inline base64, or fetched through
//! the SSRF guard), decode and hash it on the blocking pool (decoding is CPU work and must not
//! starve the consumer's polling), pull URLs out of the text, apply the lists' text rules to
//! it ([`crate::text_rules`]), and produce one [`PostSignals`] on
//! `post-signals`. A post that is not valid JSON of the schema goes to the dead-letter topic. A
//! media item that cannot be fetched or decoded is recorded in the signals with its error code,
//! the post's other media still go on, and the post is also dead-lettered with that code, so
//! nothing is silently lost.

use crate::fetch::{FetchPolicy, Fetcher};
use crate::metrics::StageMetrics;
use crate::pdq_conventions::PdqConventions;
use crate::runner::{Input, Output, Rejection, Stage};
use crate::text_rules::TextRules;
use base64::Engine;
use regex::Regex;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use takedown_core::messages::{
    self, ErrorInfo, Media, MediaSignals, Post, PostSignals, SignalValue,
};
use takedown_core::{ErrorCode, SignalType};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer, Signals};
use time::OffsetDateTime;

/// What the ingest stage computes and where it writes.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Topic of the signals.
    pub output_topic: String,
    /// Signals to compute for each media item.
    pub signals: Vec<SignalType>,
    /// Decoding limits.
    pub limits: DecodeLimits,
    /// PDQ convention used when the loaded lists do not decide (none loaded, or both in use).
    pub pre_resize: PreResize,
    /// Fetch policy (SSRF guard, timeouts, byte cap).
    pub fetch: FetchPolicy,
    /// How video media are hashed (vPDQ sampling and caps).
    pub video: crate::video_media::VideoConfig,
}

impl IngestConfig {
    /// Defaults: PDQ, MD5 and SHA-256; default limits and fetch policy.
    pub fn new(output_topic: &str) -> Self {
        IngestConfig {
            output_topic: output_topic.to_string(),
            signals: vec![SignalType::Pdq, SignalType::Md5, SignalType::Sha256],
            limits: DecodeLimits::default(),
            pre_resize: PreResize::Reference,
            fetch: FetchPolicy::default(),
            video: crate::video_media::VideoConfig::default(),
        }
    }
}

/// The ingest stage.
pub struct IngestStage {
    config: IngestConfig,
    fetcher: Fetcher,
    metrics: Arc<StageMetrics>,
    text_rules: TextRules,
    conventions: PdqConventions,
}

impl IngestStage {
    /// A stage with `config`, recording into `metrics`.
    pub fn new(
        config: IngestConfig,
        metrics: Arc<StageMetrics>,
    ) -> Result<Self, crate::fetch::FetchError> {
        let fetcher = Fetcher::new(config.fetch.clone())?;
        Ok(IngestStage {
            config,
            fetcher,
            metrics,
            text_rules: TextRules::default(),
            conventions: PdqConventions::default(),
        })
    }

    /// Hashes PDQ with the conventions of the lists `conventions` follows: one, or both
    /// where both are in use and the image is over 512 pixels on a side.
    pub fn with_pdq_conventions(mut self, conventions: PdqConventions) -> Self {
        self.conventions = conventions;
        self
    }

    /// Applies `rules` (kept current by the list follower) to each post's text.
    pub fn with_text_rules(mut self, rules: TextRules) -> Self {
        self.text_rules = rules;
        self
    }

    async fn media_bytes(&self, media: &Media) -> Result<Vec<u8>, ErrorInfo> {
        match (&media.data_base64, &media.url) {
            (Some(data), _) => {
                // Base64 is 4/3 of the bytes: refuse before decoding when it cannot fit.
                if data.len() / 4 * 3 > self.config.limits.max_input_bytes {
                    return Err(ErrorInfo {
                        code: ErrorCode::TooLarge,
                        message: format!(
                            "inline media over {} bytes",
                            self.config.limits.max_input_bytes
                        ),
                    });
                }
                base64::engine::general_purpose::STANDARD
                    .decode(data.trim())
                    .map_err(|e| ErrorInfo {
                        code: ErrorCode::InvalidMessage,
                        message: format!("media {}: data_base64: {e}", media.media_id),
                    })
            }
            (None, Some(url)) => {
                let started = Instant::now();
                let result = self.fetcher.fetch(url).await;
                self.metrics
                    .fetch_seconds
                    .observe(started.elapsed().as_secs_f64());
                result.map_err(|e| ErrorInfo {
                    code: e.code(),
                    message: format!("media {}: {e}", media.media_id),
                })
            }
            (None, None) => Err(ErrorInfo {
                code: ErrorCode::InvalidMessage,
                message: format!("media {}: needs url or data_base64", media.media_id),
            }),
        }
    }

    async fn media_signals(&self, media: &Media) -> MediaSignals {
        let outcome = match self.media_bytes(media).await {
            Ok(bytes) if crate::video_media::is_video(&bytes) => {
                return self.video_media_signals(media, bytes).await;
            }
            Ok(bytes) => {
                let wanted = self.config.signals.clone();
                let (limits, pre_resize) = (self.config.limits, self.config.pre_resize);
                let (primary, both) = self.conventions.needed(pre_resize);
                let started = Instant::now();
                let computed = tokio::task::spawn_blocking(move || {
                    with_computer(limits, pre_resize, |c| {
                        c.compute_conventions(&bytes, &wanted, primary, both)
                    })
                })
                .await;
                self.metrics
                    .hash_seconds
                    .observe(started.elapsed().as_secs_f64());
                match computed {
                    Ok(Ok(signals)) => Ok(signals),
                    Ok(Err(e)) => Err(ErrorInfo {
                        code: e.code(),
                        message: format!("media {}: {e}", media.media_id),
                    }),
                    Err(join) => Err(ErrorInfo {
                        code: ErrorCode::DecodeFailed,
                        message: format!("media {}: hashing aborted: {join}", media.media_id),
                    }),
                }
            }
            Err(e) => Err(e),
        };
        let outcome = outcome.map(|s| (signal_values(&s), s.pdq.map(|p| p.quality)));
        self.entry(media, outcome)
    }

    /// `media`'s entry in the signals message: its signals and PDQ quality, or its error
    /// (counted).
    fn entry(
        &self,
        media: &Media,
        outcome: Result<(Vec<SignalValue>, Option<u8>), ErrorInfo>,
    ) -> MediaSignals {
        let (signals, pdq_quality, error) = match outcome {
            Ok((signals, quality)) => (signals, quality, None),
            Err(error) => {
                self.metrics.error(error.code);
                (Vec::new(), None, Some(error))
            }
        };
        MediaSignals {
            media_id: media.media_id.clone(),
            url: media.url.clone(),
            signals,
            pdq_quality,
            error,
        }
    }
}

impl IngestStage {
    /// A video's signals (vPDQ, MD5, SHA-256), hashed on the blocking pool.
    async fn video_media_signals(&self, media: &Media, bytes: Vec<u8>) -> MediaSignals {
        let config = self.config.video.clone();
        let media_id = media.media_id.clone();
        let started = Instant::now();
        let computed = tokio::task::spawn_blocking(move || {
            crate::video_media::video_signals(&media_id, &bytes, &config)
        })
        .await
        .unwrap_or_else(|join| {
            Err(ErrorInfo {
                code: ErrorCode::DecodeFailed,
                message: format!("media {}: hashing aborted: {join}", media.media_id),
            })
        });
        self.metrics
            .hash_seconds
            .observe(started.elapsed().as_secs_f64());
        self.entry(media, computed.map(|signals| (signals, None)))
    }
}

thread_local! {
    /// One signal computer per blocking-pool thread, so buffers are reused.
    static COMPUTER: RefCell<Option<SignalComputer>> = const { RefCell::new(None) };
}

fn with_computer<T>(
    limits: DecodeLimits,
    pre_resize: PreResize,
    f: impl FnOnce(&mut SignalComputer) -> T,
) -> T {
    COMPUTER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let computer = slot.get_or_insert_with(|| SignalComputer::new(limits, pre_resize));
        f(computer)
    })
}

fn signal_values(s: &Signals) -> Vec<SignalValue> {
    let mut out = Vec::new();
    if let Some(p) = s.pdq {
        out.push(SignalValue {
            signal_type: SignalType::Pdq,
            value: p.hash.to_string(),
            pdq_convention: s.pdq_convention,
            pdq_quality: None,
        });
    }
    if let (Some(p), Some(primary)) = (s.pdq_other, s.pdq_convention) {
        out.push(SignalValue {
            signal_type: SignalType::Pdq,
            value: p.hash.to_string(),
            pdq_convention: Some(match primary {
                PreResize::Reference => PreResize::FullSize,
                PreResize::FullSize => PreResize::Reference,
            }),
            pdq_quality: Some(p.quality),
        });
    }
    let mut push = |t: SignalType, v: Option<String>| {
        if let Some(value) = v {
            out.push(SignalValue {
                signal_type: t,
                value,
                pdq_convention: None,
                pdq_quality: None,
            });
        }
    };
    push(SignalType::Md5, s.md5.map(|d| d.to_string()));
    push(SignalType::Sha256, s.sha256.map(|d| d.to_string()));
    push(SignalType::Sha512, s.sha512.map(|d| d.to_string()));
    push(SignalType::Dhash, s.dhash.clone());
    push(SignalType::Phash, s.phash.clone());
    out
}

/// URLs in a post's text (http and https), in order, without duplicates.
pub fn extract_urls(text: &str) -> Vec<String> {
    static URL: OnceLock<Regex> = OnceLock::new();
    let re = URL.get_or_init(|| {
        Regex::new(r#"(?i)\bhttps?://[^\s<>"'\)\]\}]+"#).expect("URL pattern compiles")
    });
    let mut out: Vec<String> = Vec::new();
    for m in re.find_iter(text) {
        let url = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if !out.iter().any(|u| u == url) {
            out.push(url.to_string());
        }
    }
    out
}

impl Stage for IngestStage {
    fn name(&self) -> &'static str {
        "ingest"
    }

    async fn process(&self, input: Input) -> Result<Vec<Output>, Rejection> {
        let post: Post = messages::parse("post", &input.payload)
            .map_err(|e| Rejection::new(e.code(), e.to_string()))?;
        let media =
            futures_util::future::join_all(post.media.iter().map(|m| self.media_signals(m))).await;
        let first_error = media.iter().find_map(|m| m.error.clone());
        let urls = post.text.as_deref().map(extract_urls).unwrap_or_default();
        let text_hits = post
            .text
            .as_deref()
            .map(|t| self.text_rules.hits(t, &urls))
            .unwrap_or_default();
        let signals = PostSignals {
            schema: messages::SCHEMA_VERSION,
            post_id: post.post_id.clone(),
            platform: post.platform.clone(),
            url: post.url.clone(),
            created_at: post.created_at,
            media,
            urls,
            text_hits,
            text: (post.text.as_deref())
                .filter(|t| !t.trim().is_empty())
                .map(messages::PostText::bounded),
            language: post.language.as_deref().and_then(messages::language_tag),
            ingested_at: OffsetDateTime::now_utc(),
        };
        let output = Output {
            topic: self.config.output_topic.clone(),
            key: post.post_id.clone(),
            payload: serde_json::to_vec(&signals).expect("signals serialise"),
        };
        match first_error {
            None => Ok(vec![output]),
            Some(e) => Err(Rejection::new(e.code, e.message).with_partial(vec![output])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_found_trimmed_and_deduplicated() {
        let text = "see https://example.com/a?b=1, and (http://x.test/path). Again https://example.com/a?b=1!";
        assert_eq!(
            extract_urls(text),
            ["https://example.com/a?b=1", "http://x.test/path"]
        );
        assert!(extract_urls("no links, just ftp://old.example").is_empty());
    }
}
