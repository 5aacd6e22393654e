//! Recognising video containers from their first bytes, never from a URL or a file name.

/// Whether `head` (the first bytes of a file; 16 are enough) starts like a video container:
/// ISO base media (MP4, MOV, 3GP; not the HEIF/AVIF still-image brands), Matroska/WebM, AVI,
/// FLV, MPEG transport or program streams, Ogg, ASF/WMV.
pub fn is_video(head: &[u8]) -> bool {
    const STILL_BRANDS: [&[u8; 4]; 6] = [b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"];
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        return !STILL_BRANDS.iter().any(|b| &b[..] == brand);
    }
    head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3])
        || (head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"AVI ")
        || head.starts_with(b"FLV\x01")
        || head.starts_with(&[0x00, 0x00, 0x01, 0xba])
        || head.starts_with(b"OggS")
        || head.starts_with(&[0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])
        || (head.len() >= 189 && head[0] == 0x47 && head[188] == 0x47)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_by_magic() {
        assert!(is_video(b"\0\0\0\x20ftypisom\0\0\x02\0"));
        assert!(is_video(b"\0\0\0\x14ftypqt  \0\0\0\0"));
        assert!(!is_video(b"\0\0\0\x18ftypheic\0\0\0\0"));
        assert!(!is_video(b"\0\0\0\x1cftypavif\0\0\0\0"));
        assert!(is_video(&[0x1a, 0x45, 0xdf, 0xa3, 0x9f]));
        assert!(is_video(b"RIFF\x10\0\0\0AVI LIST"));
        assert!(!is_video(b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(is_video(b"FLV\x01\x05"));
        let mut ts = vec![0u8; 200];
        ts[0] = 0x47;
        ts[188] = 0x47;
        assert!(is_video(&ts));
        assert!(!is_video(b"\xff\xd8\xff\xe0\0\x10JFIF"));
        assert!(!is_video(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_video(b""));
    }
}
