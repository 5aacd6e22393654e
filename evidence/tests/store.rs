//! The evidence store on its two backends: a local directory, and a real S3-compatible server
//! (`s3s-fs`, started by `takedown-local-services`). Objects round-trip, are encrypted at rest,
//! cannot be read without their key, and are refused when altered.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use takedown_evidence::{EvidenceError, EvidenceStore, Keyring, Location};
use takedown_local_services::S3Server;

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The behaviour both backends must show; `on_disk` is where the backend keeps its files.
async fn behaves(store: &EvidenceStore, reopen_other_key: EvidenceStore, on_disk: &Path) {
    let media = jpeg();
    let stored = store
        .put(&media, Some("application/octet-stream"))
        .await
        .unwrap();
    assert_eq!(
        stored.content_type, "image/jpeg",
        "images are recognised by their bytes"
    );
    assert!(stored.has_preview);
    assert_eq!(stored.size, media.len() as u64);
    let (ty, bytes) = store.original(&stored.sha256).await.unwrap();
    assert_eq!((ty.as_str(), &bytes), ("image/jpeg", &media));
    let preview = image::load_from_memory(&store.preview(&stored.sha256).await.unwrap()).unwrap();
    assert_eq!((preview.width(), preview.height()), (192, 144));

    // At rest: nothing on disk contains the plaintext's bytes.
    let stored_files = files(on_disk);
    assert!(stored_files.len() >= 2, "{stored_files:?}");
    let needle = &media[media.len() / 2..media.len() / 2 + 32];
    for f in &stored_files {
        let raw = std::fs::read(f).unwrap();
        assert!(
            !raw.windows(32).any(|w| w == needle),
            "{} holds plaintext",
            f.display()
        );
    }

    // Without the key: refused, naming the key id it needs.
    match reopen_other_key.original(&stored.sha256).await {
        Err(EvidenceError::Envelope { .. }) => {}
        other => panic!("read without the key: {other:?}"),
    }

    // Tampered: one byte flipped in the stored original is refused.
    let original = stored_files
        .iter()
        .find(|f| {
            f.to_string_lossy().contains("originals") && !f.to_string_lossy().contains(".s3s")
        })
        .expect("an original on disk")
        .clone();
    let mut raw = std::fs::read(&original).unwrap();
    let i = raw.len() - 20;
    raw[i] ^= 0x40;
    std::fs::write(&original, &raw).unwrap();
    let err = store.original(&stored.sha256).await.unwrap_err();
    assert_eq!(err.code(), "evidence_integrity", "{err}");

    store.delete(&stored.sha256).await.unwrap();
    assert!(!store.exists(&stored.sha256).await.unwrap());
    assert!(matches!(
        store.preview(&stored.sha256).await,
        Err(EvidenceError::NotFound(_))
    ));
    store.delete(&stored.sha256).await.unwrap();
}

#[tokio::test]
async fn filesystem_backend() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Local(dir.path().join("evidence"));
    let store = EvidenceStore::open(&location, Keyring::random()).unwrap();
    let other = EvidenceStore::open(&location, Keyring::random()).unwrap();
    behaves(&store, other, dir.path()).await;
}

#[tokio::test]
async fn s3_backend_against_a_real_s3_server() {
    let s3 = S3Server::start("evidence").expect("s3s-fs (scripts/install-test-deps)");
    let location = Location::parse("s3://evidence/takedown/prod").unwrap();
    let open = |keys: Keyring| {
        let s3_store = object_store_for(&s3);
        EvidenceStore::with_backend(s3_store, "takedown/prod", keys)
    };
    assert!(matches!(location, Location::S3 { .. }));
    behaves(
        &open(Keyring::random()),
        open(Keyring::random()),
        &s3.bucket_dir(),
    )
    .await;
}

fn object_store_for(s3: &S3Server) -> std::sync::Arc<dyn object_store::ObjectStore> {
    std::sync::Arc::new(
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(s3.bucket())
            .with_endpoint(s3.endpoint())
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id(&s3.access_key)
            .with_secret_access_key(&s3.secret_key)
            .build()
            .unwrap(),
    )
}
