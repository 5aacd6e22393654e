//! Content-addressed, encrypted evidence objects on a local directory or an S3-compatible store.
//!
//! An original is stored under `originals/<sha256 of its bytes>` and its preview under
//! `previews/<sha256>`, both sealed with [`crate::envelope`]. The same media seen in two cases
//! is one object (the review engine counts the cases that use it before deleting). Every read
//! decrypts, authenticates and, for originals, hashes the bytes again: an object that does not
//! match its name is refused, never served.
//!
//! The backend is chosen by a URL (`TAKEDOWN_EVIDENCE_URL`): `file:///var/lib/takedown/evidence`
//! for one node (a PersistentVolume on Kubernetes), `s3://bucket/prefix` for any S3-compatible
//! store, with credentials, region and endpoint from the standard `AWS_*` environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`,
//! `AWS_ALLOW_HTTP` for a plain-HTTP endpoint such as a local test server).

use crate::envelope::{self, EnvelopeError};
use crate::keys::{KeyError, Keyring};
use crate::preview::{self, PREVIEW_TYPE};
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use takedown_matcher::decode::DecodeLimits;
use takedown_video::VideoLimits;
use takedown_video::keyframes::{KeyframeOptions, keyframes_bytes};

/// Where evidence is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local directory (created if missing).
    Local(PathBuf),
    /// An S3 bucket and a key prefix inside it (may be empty).
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix, without leading or trailing slashes.
        prefix: String,
    },
}

impl Location {
    /// Parses `file:///absolute/path` or `s3://bucket[/prefix]`.
    pub fn parse(text: &str) -> Result<Location, EvidenceError> {
        let bad = |why: &str| {
            EvidenceError::Config(format!(
                "TAKEDOWN_EVIDENCE_URL: {why} (expected file:///absolute/path or s3://bucket/prefix)"
            ))
        };
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        match url.scheme() {
            "file" => {
                if url.host_str().is_some_and(|h| !h.is_empty()) {
                    return Err(bad("a file URL names no host"));
                }
                url.to_file_path()
                    .map(Location::Local)
                    .map_err(|_| bad("not an absolute path"))
            }
            "s3" => {
                let bucket = url.host_str().filter(|b| !b.is_empty());
                let bucket = bucket.ok_or_else(|| bad("no bucket"))?.to_string();
                if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
                    return Err(bad("credentials, queries and fragments are not allowed"));
                }
                Ok(Location::S3 {
                    bucket,
                    prefix: url.path().trim_matches('/').to_string(),
                })
            }
            other => Err(bad(&format!("scheme {other:?} is not file or s3"))),
        }
    }
}

/// Why an evidence operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The store's configuration is wrong.
    #[error("{0}")]
    Config(String),
    /// The keyring could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The backend failed.
    #[error("evidence backend: {0}")]
    Backend(String),
    /// The object is not there.
    #[error("evidence object {0} not found")]
    NotFound(String),
    /// The object failed to open.
    #[error("evidence object {name}: {source}")]
    Envelope {
        /// The object.
        name: String,
        /// Why.
        source: EnvelopeError,
    },
    /// The object decrypted but its bytes do not hash to its name.
    #[error("evidence object {name}: content hashes to {actual}, not its name")]
    Integrity {
        /// The object.
        name: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// A stored preview strip could not be cut into its tiles.
    #[error("evidence preview {0}")]
    Preview(String),
    /// A digest given to the store is not 64 lowercase hex digits.
    #[error("not a SHA-256 digest: {0:?}")]
    Digest(String),
}

impl EvidenceError {
    /// The stable error code recorded with a failed capture or read.
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceError::Config(_) | EvidenceError::Key(_) => "evidence_config",
            EvidenceError::Backend(_) => "evidence_store_failed",
            EvidenceError::NotFound(_) => "evidence_missing",
            EvidenceError::Envelope { .. }
            | EvidenceError::Integrity { .. }
            | EvidenceError::Preview(_) => "evidence_integrity",
            EvidenceError::Digest(_) => "invalid_value",
        }
    }
}

fn backend(e: object_store::Error) -> EvidenceError {
    match e {
        object_store::Error::NotFound { path, .. } => EvidenceError::NotFound(path),
        other => EvidenceError::Backend(other.to_string()),
    }
}

/// What was stored for one original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// SHA-256 of the original bytes, lowercase hex: the object's address.
    pub sha256: String,
    /// Size of the original in bytes.
    pub size: u64,
    /// Its content type (sniffed for images, else as declared).
    pub content_type: String,
    /// Whether a preview was made (images, and videos whose keyframes decoded).
    pub has_preview: bool,
    /// For a video: the time of each tile of its preview strip, in milliseconds from the
    /// start (empty otherwise).
    pub keyframes_ms: Vec<u64>,
}

/// An original sealed and its preview made, ready to write: the CPU work of a capture, done
/// on a blocking thread before [`EvidenceStore::write`].
pub struct Prepared {
    /// What will be stored.
    pub object: StoredObject,
    original: Vec<u8>,
    preview: Option<Vec<u8>>,
}

/// The evidence store.
#[derive(Clone)]
pub struct EvidenceStore {
    inner: Arc<dyn ObjectStore>,
    prefix: Path,
    keys: Arc<Keyring>,
    limits: DecodeLimits,
    video: KeyframeOptions,
}

impl std::fmt::Debug for EvidenceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceStore")
            .field("backend", &self.inner.to_string())
            .field("prefix", &self.prefix.as_ref())
            .field("keys", &self.keys)
            .finish()
    }
}

/// Checks a digest's text form.
pub fn check_digest(sha: &str) -> Result<(), EvidenceError> {
    if sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(EvidenceError::Digest(sha.chars().take(80).collect()))
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl EvidenceStore {
    /// Opens the store at `location`, encrypting with `keys`.
    pub fn open(location: &Location, keys: Keyring) -> Result<EvidenceStore, EvidenceError> {
        let (inner, prefix): (Arc<dyn ObjectStore>, Path) = match location {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    EvidenceError::Config(format!("creating {}: {e}", dir.display()))
                })?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| EvidenceError::Config(format!("{}: {e}", dir.display())))?;
                (Arc::new(fs), Path::default())
            }
            Location::S3 { bucket, prefix } => {
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| EvidenceError::Config(format!("S3 bucket {bucket}: {e}")))?;
                (Arc::new(s3), Path::from(prefix.as_str()))
            }
        };
        Ok(EvidenceStore {
            inner,
            prefix,
            keys: Arc::new(keys),
            limits: DecodeLimits::default(),
            video: KeyframeOptions::default(),
        })
    }

    /// A store over a backend built by the caller (tests, or a backend this crate does not
    /// configure itself), under `prefix`.
    pub fn with_backend(inner: Arc<dyn ObjectStore>, prefix: &str, keys: Keyring) -> EvidenceStore {
        EvidenceStore {
            inner,
            prefix: Path::from(prefix),
            keys: Arc::new(keys),
            limits: DecodeLimits::default(),
            video: KeyframeOptions::default(),
        }
    }

    /// The same store, decoding videos for their preview strips under `limits` (the video
    /// caps of the deployment: bytes, duration, dimensions, CPU and wall time).
    pub fn with_video_limits(mut self, limits: VideoLimits) -> EvidenceStore {
        self.video.limits = limits;
        self
    }

    /// Opens the store named by `url` with the keyring from the environment
    /// (`TAKEDOWN_EVIDENCE_KEY` or `TAKEDOWN_EVIDENCE_KEY_FILE`): the start-up path of every
    /// role that touches evidence. A missing key is an error here, before anything runs.
    pub fn from_url_and_env(url: &str) -> Result<EvidenceStore, EvidenceError> {
        let location = Location::parse(url)?;
        let keys = Keyring::from_env()?;
        Self::open(&location, keys)
    }

    fn path(&self, name: &str) -> Path {
        let mut p = self.prefix.clone();
        for part in name.split('/') {
            p = p.child(part);
        }
        p
    }

    /// Hashes, seals and previews `bytes` (CPU only, and for a video a bounded FFmpeg child;
    /// no store I/O). `declared` is the content type the source gave; images and videos are
    /// recognised by their bytes whatever it says. A video's preview is its strip of blurred
    /// keyframes ([`preview::make_strip`]).
    pub fn prepare(&self, bytes: &[u8], declared: Option<&str>) -> Result<Prepared, EvidenceError> {
        let sha = sha256_hex(bytes);
        let image = preview::image_type(bytes);
        let video = preview::video_type(bytes);
        let content_type = image
            .or(video)
            .or(declared.filter(|d| !d.is_empty() && d.len() <= 255 && d.is_ascii()))
            .unwrap_or("application/octet-stream")
            .to_string();
        let seal = |name: &str, ty: &str, b: &[u8]| {
            envelope::seal(&self.keys, name, ty, b).map_err(|source| EvidenceError::Envelope {
                name: name.to_string(),
                source,
            })
        };
        let original = seal(&format!("originals/{sha}"), &content_type, bytes)?;
        // Media that cannot be decoded gets no preview; the original is still evidence.
        let mut keyframes = Vec::new();
        let made = if image.is_some() {
            preview::make_preview(bytes, &self.limits).ok()
        } else if video.is_some() {
            match keyframes_bytes(bytes, &self.video) {
                Ok(kf) => {
                    keyframes = kf
                        .frames
                        .iter()
                        .map(|f| (f.seconds * 1000.0).round() as u64)
                        .collect();
                    preview::make_strip(&kf).ok()
                }
                Err(_) => None,
            }
        } else {
            None
        };
        if made.is_none() {
            keyframes.clear();
        }
        let preview = match made {
            Some(jpeg) => Some(seal(&format!("previews/{sha}"), PREVIEW_TYPE, &jpeg)?),
            None => None,
        };
        Ok(Prepared {
            object: StoredObject {
                sha256: sha,
                size: bytes.len() as u64,
                content_type,
                has_preview: preview.is_some(),
                keyframes_ms: keyframes,
            },
            original,
            preview,
        })
    }

    /// Writes a prepared capture (the preview first, so an original never exists without
    /// the preview the UI needs).
    pub async fn write(&self, prepared: Prepared) -> Result<StoredObject, EvidenceError> {
        let sha = &prepared.object.sha256;
        if let Some(preview) = prepared.preview {
            self.inner
                .put(
                    &self.path(&format!("previews/{sha}")),
                    PutPayload::from(preview),
                )
                .await
                .map_err(backend)?;
        }
        self.inner
            .put(
                &self.path(&format!("originals/{sha}")),
                PutPayload::from(prepared.original),
            )
            .await
            .map_err(backend)?;
        Ok(prepared.object)
    }

    /// [`EvidenceStore::prepare`] then [`EvidenceStore::write`].
    pub async fn put(
        &self,
        bytes: &[u8],
        declared: Option<&str>,
    ) -> Result<StoredObject, EvidenceError> {
        let prepared = self.prepare(bytes, declared)?;
        self.write(prepared).await
    }

    async fn read(&self, name: &str) -> Result<envelope::Opened, EvidenceError> {
        let data = self
            .inner
            .get(&self.path(name))
            .await
            .map_err(backend)?
            .bytes()
            .await
            .map_err(backend)?;
        envelope::open(&self.keys, name, &data).map_err(|source| EvidenceError::Envelope {
            name: name.to_string(),
            source,
        })
    }

    /// The original with digest `sha`: (content type, bytes), authenticated and re-hashed.
    pub async fn original(&self, sha: &str) -> Result<(String, Vec<u8>), EvidenceError> {
        check_digest(sha)?;
        let name = format!("originals/{sha}");
        let opened = self.read(&name).await?;
        let actual = sha256_hex(&opened.bytes);
        if actual != sha {
            return Err(EvidenceError::Integrity { name, actual });
        }
        Ok((opened.content_type, opened.bytes))
    }

    /// The preview JPEG of the original `sha`.
    pub async fn preview(&self, sha: &str) -> Result<Vec<u8>, EvidenceError> {
        check_digest(sha)?;
        Ok(self.read(&format!("previews/{sha}")).await?.bytes)
    }

    /// Tile `index` of the preview strip of the video `sha`, whose strip has `count` tiles.
    pub async fn preview_tile(
        &self,
        sha: &str,
        index: usize,
        count: usize,
    ) -> Result<Vec<u8>, EvidenceError> {
        let strip = self.preview(sha).await?;
        preview::strip_tile(&strip, index, count)
            .map_err(|e| EvidenceError::Preview(format!("previews/{sha}: {e}")))
    }

    /// Deletes the original `sha` and its preview; deleting what is already gone is fine.
    pub async fn delete(&self, sha: &str) -> Result<(), EvidenceError> {
        check_digest(sha)?;
        for name in [format!("previews/{sha}"), format!("originals/{sha}")] {
            match self.inner.delete(&self.path(&name)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(())
    }

    /// Whether the original `sha` exists (no decryption).
    pub async fn exists(&self, sha: &str) -> Result<bool, EvidenceError> {
        check_digest(sha)?;
        match self
            .inner
            .head(&self.path(&format!("originals/{sha}")))
            .await
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!(
            Location::parse("file:///var/lib/takedown/evidence").unwrap(),
            Location::Local("/var/lib/takedown/evidence".into())
        );
        assert_eq!(
            Location::parse("s3://bucket/a/b/").unwrap(),
            Location::S3 {
                bucket: "bucket".into(),
                prefix: "a/b".into()
            }
        );
        assert_eq!(
            Location::parse("s3://bucket").unwrap(),
            Location::S3 {
                bucket: "bucket".into(),
                prefix: String::new()
            }
        );
        for bad in [
            "/tmp/x",
            "http://x/y",
            "s3:///p",
            "s3://k:s@b/p",
            "file://host/x",
        ] {
            let e = Location::parse(bad).unwrap_err().to_string();
            assert!(e.contains("expected file:///"), "{bad}: {e}");
        }
    }

    #[test]
    fn digests_are_checked() {
        assert!(check_digest(&"a".repeat(64)).is_ok());
        assert!(check_digest(&"A".repeat(64)).is_err());
        assert!(check_digest("../../etc/passwd").is_err());
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
