//! Decoding only the pictures vPDQ needs, for H.264.
//!
//! At one hash a second the reference hashes one frame in thirty but decodes all thirty, and
//! decoding is nearly all of vPDQ's cost. In H.264 a picture whose NAL units all have
//! `nal_ref_idc` 0 is never used to predict another picture (most B-frames are such pictures),
//! so it can be left out of the bitstream without changing any other decoded picture: the usual
//! way to thin a stream's frame rate. This module leaves out every such picture that is not
//! itself sampled, which roughly halves the decoding of a typical x264 file, and the frames that
//! are hashed are bit for bit those a full decode gives (`video/tests/sparse.rs` compares the
//! two on every sample video and on generated ones).
//!
//! 1. `ffprobe` (the same run that probes the file) lists the stream's packets in decoding
//!    order with their presentation timestamps; a packet's rank among the timestamps is its
//!    frame number, the number the reference counts decoded frames by.
//! 2. `ffmpeg` copies the stream out as Annex B with an access unit delimiter before each
//!    packet's picture. An access unit is kept when it is sampled, when any of its NAL units is
//!    a reference (parameter sets always are) or when it holds no picture; kept units go to a
//!    private temporary file.
//! 3. `ffmpeg` decodes that file and `select` keeps the sampled frames by their position among
//!    the kept ones.
//!
//! Whenever a file does not fit these assumptions (a packet without a timestamp, two with the
//! same one, a packet the demuxer would discard, access units that are not one per packet, a
//! decoder that gives back another number of frames), [`hash`] answers `None` and the caller
//! decodes everything. Each step runs under the same bounds as the full decode.

use crate::decoder::{
    Decoding, FrameSink, conversion, decoder_args, file_url, input_args, input_args_for,
};
use crate::error::VideoError;
use crate::probe::{Packet, VideoInfo};
use crate::process::{self, Bounds};
use std::ffi::OsString;
use std::io::{BufWriter, ErrorKind, Read, Write};
use takedown_core::VpdqFrame;

/// The largest access unit accepted (a 4K intra picture is far smaller).
const MAX_UNIT_BYTES: usize = 64 << 20;
/// How much of the stream is read at a time.
const CHUNK: usize = 1 << 16;

/// The frame number of each packet, in decoding order: its timestamp's rank. `None` when the
/// packets cannot give them: one without a timestamp, two with the same one, or one the
/// demuxer marks to be discarded (its frame would not be counted).
pub(crate) fn frame_numbers(packets: &[Packet]) -> Option<Vec<u64>> {
    let mut timestamps = Vec::with_capacity(packets.len());
    for packet in packets {
        if packet.flags.contains('D') {
            return None;
        }
        timestamps.push(packet.pts?);
    }
    let mut order: Vec<usize> = (0..timestamps.len()).collect();
    order.sort_by_key(|&k| timestamps[k]);
    if order
        .windows(2)
        .any(|w| timestamps[w[0]] == timestamps[w[1]])
    {
        return None;
    }
    let mut numbers = vec![0u64; timestamps.len()];
    for (rank, packet) in order.into_iter().enumerate() {
        numbers[packet] = rank as u64;
    }
    Some(numbers)
}

/// Where the access unit delimiter after `from` begins (its start code, with the zero byte of
/// a four-byte start code), if one is in `stream`. A delimiter at the very start is the current
/// unit's own.
fn next_delimiter(stream: &[u8], from: usize) -> Option<usize> {
    let mut i = from.max(1);
    while i + 3 < stream.len() {
        if stream[i + 2] > 1 {
            i += 3;
            continue;
        }
        if stream[i..i + 3] == [0, 0, 1] && stream[i + 3] & 0x1f == 9 {
            let begin = if stream[i - 1] == 0 { i - 1 } else { i };
            if begin > 0 {
                return Some(begin);
            }
        }
        i += 1;
    }
    None
}

/// An Annex B byte stream cut into access units at each access unit delimiter.
pub(crate) struct AccessUnits<R> {
    reader: R,
    buffer: Vec<u8>,
    /// Where the current unit begins in `buffer`.
    start: usize,
    /// Where the search for the next delimiter resumes, from `start`.
    scanned: usize,
}

impl<R: Read> AccessUnits<R> {
    pub(crate) fn new(reader: R) -> Self {
        AccessUnits {
            reader,
            buffer: Vec::with_capacity(4 * CHUNK),
            start: 0,
            scanned: 0,
        }
    }

    /// The next access unit, from its delimiter up to the next one; `None` at the end.
    pub(crate) fn next_unit(&mut self) -> Result<Option<&[u8]>, VideoError> {
        loop {
            if let Some(end) = next_delimiter(&self.buffer[self.start..], self.scanned) {
                let unit = self.start..self.start + end;
                self.start += end;
                self.scanned = 0;
                return Ok(Some(&self.buffer[unit]));
            }
            // What was cut off already goes; a start code may straddle what has been read
            // and what comes next, so the search resumes a little before the end.
            self.buffer.drain(..self.start);
            self.start = 0;
            self.scanned = self.buffer.len().saturating_sub(4);
            if self.buffer.len() > MAX_UNIT_BYTES {
                return Err(VideoError::DecodeFailed(format!(
                    "an access unit is larger than {MAX_UNIT_BYTES} bytes"
                )));
            }
            let filled = self.buffer.len();
            self.buffer.resize(filled + CHUNK, 0);
            let read = loop {
                match self.reader.read(&mut self.buffer[filled..]) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    other => break other,
                }
            };
            self.buffer
                .truncate(filled + read.as_ref().map_or(0, |n| *n));
            match read? {
                0 if self.buffer.is_empty() => return Ok(None),
                0 => {
                    self.start = self.buffer.len();
                    return Ok(Some(&self.buffer[..]));
                }
                _ => {}
            }
        }
    }
}

/// Whether an access unit must stay in the stream: one of its NAL units is a reference
/// (`nal_ref_idc` ≠ 0: a reference picture's slices, and parameter sets, which always are), or
/// it holds no coded picture at all (then it is not understood and not touched).
pub(crate) fn is_needed(unit: &[u8]) -> bool {
    let mut picture = false;
    for i in 0..unit.len().saturating_sub(3) {
        if unit[i..i + 3] == [0, 0, 1] {
            let header = unit[i + 3];
            if header & 0x60 != 0 {
                return true;
            }
            picture |= matches!(header & 0x1f, 1..=5);
        }
    }
    !picture
}

/// A `select` expression true exactly at the frame positions `at` (ascending): a balanced tree
/// of comparisons, so each frame costs a logarithm of the sampled count, not the count.
pub(crate) fn select_expression(at: &[u64]) -> String {
    match at {
        [] => "0".into(),
        [only] => format!("eq(n,{only})"),
        _ => {
            let (low, high) = at.split_at(at.len() / 2);
            format!(
                "if(lt(n,{}),{},{})",
                high[0],
                select_expression(low),
                select_expression(high)
            )
        }
    }
}

/// What the first two steps decided: which frames to hash and where they are among the kept.
#[derive(Debug, PartialEq)]
pub(crate) struct Plan {
    /// Frame numbers of the frames to hash, ascending.
    pub sampled: Vec<u64>,
    /// Their positions among the kept frames in presentation order.
    pub positions: Vec<u64>,
    /// How many frames are kept (decoded).
    pub kept: u64,
}

/// Frame numbers of the kept access units (in any order) → the plan.
pub(crate) fn plan(mut kept: Vec<u64>, every: u64) -> Plan {
    kept.sort_unstable();
    let (positions, sampled) = kept
        .iter()
        .enumerate()
        .filter(|(_, n)| *n % every == 0)
        .map(|(position, n)| (position as u64, *n))
        .unzip();
    Plan {
        sampled,
        positions,
        kept: kept.len() as u64,
    }
}

/// Copies the access units of `stream` that must stay to `out`, the `k`-th unit being frame
/// `numbers[k]`; the frame numbers of those kept, or `None` when the stream does not hold
/// exactly one unit per number.
pub(crate) fn keep_needed(
    stream: impl Read,
    numbers: &[u64],
    every: u64,
    out: &mut impl Write,
) -> Result<Option<Vec<u64>>, VideoError> {
    let mut units = AccessUnits::new(stream);
    let mut kept = Vec::new();
    let mut count = 0;
    while let Some(unit) = units.next_unit()? {
        let Some(&number) = numbers.get(count) else {
            return Ok(None);
        };
        count += 1;
        if number % every == 0 || is_needed(unit) {
            out.write_all(unit)?;
            kept.push(number);
        }
    }
    Ok((count == numbers.len()).then_some(kept))
}

/// Copies the needed access units of the file's stream into `kept_path` (see
/// [`keep_needed`]); `None` also when FFmpeg could not copy the stream out.
fn thin(
    url: &OsString,
    info: &VideoInfo,
    numbers: &[u64],
    every: u64,
    bounds: &Bounds,
    kept_path: &std::path::Path,
) -> Result<Option<Vec<u64>>, VideoError> {
    let mut args = input_args(url);
    args.extend(
        [
            "-map".to_string(),
            format!("0:{}", info.stream_index),
            "-c".into(),
            "copy".into(),
            "-bsf:v".into(),
            "h264_mp4toannexb,h264_metadata=aud=insert".into(),
            "-f".into(),
            "h264".into(),
            "pipe:1".into(),
        ]
        .map(OsString::from),
    );
    let mut kept = None;
    let finished = process::run("ffmpeg", &args, bounds, |out| {
        let mut file = BufWriter::new(std::fs::File::create(kept_path)?);
        kept = keep_needed(out, numbers, every, &mut file)?;
        file.flush()?;
        Ok(())
    })?;
    Ok(kept.filter(|_| finished.status.success()))
}

/// The sampled frames of an H.264 stream, decoding only them and the pictures they are
/// predicted from; `None` when the file does not allow it (see the module comment).
pub(crate) fn hash(
    url: &OsString,
    info: &VideoInfo,
    packets: &[Packet],
    every: u64,
    sink: &FrameSink,
    threads: u32,
    bounds: &Bounds,
) -> Result<Option<(Vec<VpdqFrame>, Decoding)>, VideoError> {
    let Some(numbers) = frame_numbers(packets).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let dir = tempfile::Builder::new()
        .prefix("takedown-vpdq-")
        .tempdir()?;
    let kept_path = dir.path().join("kept.h264");
    let Some(kept) = thin(url, info, &numbers, every, bounds, &kept_path)? else {
        return Ok(None);
    };
    let plan = plan(kept, every);
    if plan.sampled.is_empty() {
        return Ok(None);
    }
    let script = dir.path().join("filter");
    std::fs::write(
        &script,
        format!(
            "select='{}',{}",
            select_expression(&plan.positions),
            conversion(sink.width, sink.height)
        ),
    )?;
    let input = input_args_for(&file_url(&kept_path)?, "h264", Some("h264"));
    let args = decoder_args(
        input,
        0,
        threads,
        ["-filter_script:v".into(), script.into_os_string()],
        "rgb24",
    );
    let mut frames = None;
    let finished = process::run("ffmpeg", &args, bounds, |out| {
        frames = sink.hash_exactly(out, &plan.sampled)?;
        Ok(())
    })?;
    let Some(frames) = frames.filter(|_| finished.status.success()) else {
        return Ok(None);
    };
    Ok(Some((
        frames,
        Decoding::Sparse {
            decoded: plan.kept,
            of: numbers.len() as u64,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(packets: &[(Option<i64>, &str)]) -> Vec<Packet> {
        packets
            .iter()
            .map(|&(pts, flags)| Packet {
                pts,
                flags: flags.into(),
            })
            .collect()
    }

    #[test]
    fn frame_numbers_are_timestamp_ranks() {
        // x264 with B-frames, as ffprobe lists an MP4's packets (decoding order).
        let pts = [0, 1024, 512, 1536, 3584, 2560, 2048, 3072];
        let packets: Vec<_> = pts
            .iter()
            .enumerate()
            .map(|(i, &p)| (Some(p), if i == 0 { "K_" } else { "__" }))
            .collect();
        assert_eq!(
            frame_numbers(&listed(&packets)),
            Some(vec![0, 2, 1, 3, 7, 5, 4, 6])
        );
        assert_eq!(
            frame_numbers(&listed(&[(Some(-20), "K_"), (Some(-40), "__")])),
            Some(vec![1, 0])
        );
        assert_eq!(frame_numbers(&[]), Some(vec![]));
    }

    #[test]
    fn frame_numbers_refuse_what_they_cannot_number() {
        let no_pts = listed(&[(Some(0), "K_"), (None, "__")]);
        assert_eq!(frame_numbers(&no_pts), None, "no timestamp");
        let same = listed(&[(Some(0), "K_"), (Some(512), "__"), (Some(512), "__")]);
        assert_eq!(frame_numbers(&same), None, "same timestamp");
        let discarded = listed(&[(Some(0), "K_D"), (Some(512), "K_")]);
        assert_eq!(frame_numbers(&discarded), None, "discarded packet");
    }

    const AUD: [u8; 6] = [0, 0, 0, 1, 0x09, 0xf0];

    /// An access unit: a delimiter, then NAL units with the given header bytes.
    fn unit(headers: &[u8]) -> Vec<u8> {
        let mut bytes = AUD.to_vec();
        for &h in headers {
            bytes.extend([0, 0, 1, h, 0x88, 0x84, 0x00, 0x03, 0x01]);
        }
        bytes
    }

    #[test]
    fn what_a_picture_needs_is_kept() {
        assert!(is_needed(&unit(&[0x65])), "IDR slice");
        assert!(is_needed(&unit(&[0x41])), "reference P slice");
        assert!(
            is_needed(&unit(&[0x21])),
            "reference B slice, nal_ref_idc 1"
        );
        assert!(
            is_needed(&unit(&[0x06, 0x67, 0x68, 0x01])),
            "parameter sets"
        );
        assert!(
            is_needed(&unit(&[0x06])),
            "no picture: not understood, kept"
        );
        assert!(
            is_needed(&unit(&[0x01, 0x41])),
            "one reference slice of two"
        );
        assert!(!is_needed(&unit(&[0x01])), "non-reference slice");
        assert!(
            !is_needed(&unit(&[0x06, 0x01, 0x01])),
            "SEI and two such slices"
        );
        assert!(
            !is_needed(&unit(&[0x0c, 0x01])),
            "filler and a non-reference slice"
        );
    }

    /// A reader handing out `step` bytes at a time, so start codes straddle reads.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_stream_is_cut_at_each_delimiter() {
        let units = [
            unit(&[0x67, 0x68, 0x65]),
            unit(&[0x41]),
            unit(&[0x01]),
            // A delimiter with a three-byte start code.
            [&[0u8, 0, 1, 0x09, 0x10][..], &unit(&[0x01])[AUD.len()..]].concat(),
            unit(&[0x21, 0x21]),
        ];
        let stream = units.concat();
        for step in [1, 2, 3, 5, 7, CHUNK] {
            let mut cut = AccessUnits::new(Trickle {
                bytes: &stream,
                step,
            });
            let mut got = Vec::new();
            while let Some(unit) = cut.next_unit().unwrap() {
                got.push(unit.to_vec());
            }
            assert_eq!(got, units, "reads of {step} bytes");
        }
        let mut empty = AccessUnits::new(&[][..]);
        assert_eq!(empty.next_unit().unwrap(), None);
    }

    #[test]
    fn only_a_delimiter_cuts_whatever_its_nal_ref_idc() {
        // The type is the header's low five bits: 0x29 is nal_ref_idc 1 with type 9 (still a
        // delimiter), 0x0a is end of sequence (not one).
        let first = unit(&[0x65, 0x0a]);
        let second = [&[0u8, 0, 1, 0x29][..], &[0, 0, 1, 0x41, 0x80][..]].concat();
        let stream = [first.clone(), second.clone()].concat();
        let mut cut = AccessUnits::new(&stream[..]);
        assert_eq!(cut.next_unit().unwrap(), Some(&first[..]));
        assert_eq!(cut.next_unit().unwrap(), Some(&second[..]));
        assert_eq!(cut.next_unit().unwrap(), None);
    }

    #[test]
    fn needed_units_are_copied_and_a_count_that_does_not_fit_is_refused() {
        // Decoding order I0 P3 b1 B2(reference) b4: with every 2, b1 goes, b4 stays (sampled).
        let units = [
            unit(&[0x67, 0x68, 0x65]),
            unit(&[0x41]),
            unit(&[0x01]),
            unit(&[0x21]),
            unit(&[0x01]),
        ];
        let stream = units.concat();
        let numbers = [0, 3, 1, 2, 4];
        let mut out = Vec::new();
        let kept = keep_needed(&stream[..], &numbers, 2, &mut out).unwrap();
        assert_eq!(kept, Some(vec![0, 3, 2, 4]));
        assert_eq!(
            out,
            [&units[0][..], &units[1], &units[3], &units[4]].concat()
        );
        let mut sink = Vec::new();
        assert_eq!(
            keep_needed(&stream[..], &numbers[..4], 2, &mut sink).unwrap(),
            None,
            "more units than packets"
        );
        assert_eq!(
            keep_needed(&stream[..], &[0, 3, 1, 2, 4, 5], 2, &mut sink).unwrap(),
            None,
            "fewer units than packets"
        );
    }

    /// A reader that is interrupted once, then fails, after its bytes.
    struct Flaky<'a> {
        bytes: &'a [u8],
        interrupted: bool,
    }

    impl Read for Flaky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(ErrorKind::Interrupted.into());
            }
            if self.bytes.is_empty() {
                return Err(std::io::Error::other("pipe broke"));
            }
            let n = buf.len().min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn an_interrupted_read_is_retried_and_a_failed_one_is_an_error() {
        let stream = [unit(&[0x65]), unit(&[0x41])].concat();
        let mut cut = AccessUnits::new(Flaky {
            bytes: &stream,
            interrupted: false,
        });
        assert_eq!(cut.next_unit().unwrap(), Some(&unit(&[0x65])[..]));
        assert_eq!(
            cut.next_unit().unwrap_err().code(),
            takedown_core::ErrorCode::Io
        );
    }

    #[test]
    fn an_endless_unit_is_refused() {
        let mut stream = AUD.to_vec();
        stream.resize(MAX_UNIT_BYTES + 2 * CHUNK, 0x55);
        // Reads of an odd size, so the buffer never holds exactly the cap.
        let mut cut = AccessUnits::new(Trickle {
            bytes: &stream,
            step: CHUNK - 1,
        });
        assert_eq!(
            cut.next_unit().unwrap_err().code(),
            takedown_core::ErrorCode::DecodeFailed
        );
    }

    #[test]
    fn a_unit_of_exactly_the_cap_is_accepted() {
        // Whole reads fill the buffer to exactly the cap with no delimiter in it yet; the
        // next read brings the delimiter of the unit after.
        let mut first = AUD.to_vec();
        first.resize(MAX_UNIT_BYTES, 0x55);
        let stream = [first.clone(), unit(&[0x41])].concat();
        let mut cut = AccessUnits::new(Trickle {
            bytes: &stream,
            step: CHUNK,
        });
        assert_eq!(
            cut.next_unit().unwrap().map(<[u8]>::len),
            Some(MAX_UNIT_BYTES)
        );
        assert_eq!(cut.next_unit().unwrap(), Some(&unit(&[0x41])[..]));
        assert_eq!(cut.next_unit().unwrap(), None);
    }

    /// What `select_expression` means, evaluated the way FFmpeg's evaluator does.
    fn eval(expr: &str, n: u64) -> bool {
        fn number(s: &str) -> (u64, &str) {
            let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            (s[..end].parse().unwrap(), &s[end..])
        }
        fn walk(s: &str, n: u64) -> (bool, &str) {
            if let Some(rest) = s.strip_prefix("eq(n,") {
                let (v, rest) = number(rest);
                (n == v, rest.strip_prefix(')').unwrap())
            } else if let Some(rest) = s.strip_prefix("if(lt(n,") {
                let (v, rest) = number(rest);
                let rest = rest.strip_prefix("),").unwrap();
                let (low, rest) = walk(rest, n);
                let (high, rest) = walk(rest.strip_prefix(',').unwrap(), n);
                (
                    if n < v { low } else { high },
                    rest.strip_prefix(')').unwrap(),
                )
            } else if let Some(rest) = s.strip_prefix('0') {
                (false, rest)
            } else {
                panic!("unexpected {s}")
            }
        }
        let (value, rest) = walk(expr, n);
        assert!(rest.is_empty(), "trailing {rest}");
        value
    }

    #[test]
    fn the_select_expression_is_true_exactly_at_the_positions() {
        assert_eq!(select_expression(&[]), "0");
        assert_eq!(select_expression(&[4]), "eq(n,4)");
        assert_eq!(select_expression(&[0, 9]), "if(lt(n,9),eq(n,0),eq(n,9))");
        for positions in [
            vec![0],
            vec![0, 1, 2],
            vec![0, 16, 31, 47, 62],
            (0..1000).map(|k| k * 7 + k % 3).collect(),
        ] {
            let expr = select_expression(&positions);
            let last = *positions.last().unwrap();
            for n in 0..=last + 3 {
                assert_eq!(
                    eval(&expr, n),
                    positions.contains(&n),
                    "n = {n} in {positions:?}"
                );
            }
        }
        // A thousand positions nest ten `if`s deep (⌈log2 1000⌉) with a comparison inside,
        // not a thousand.
        let tree = select_expression(&(0..1000).collect::<Vec<_>>());
        let depth = tree
            .chars()
            .scan(0i32, |d, c| {
                *d += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                Some(*d)
            })
            .max();
        assert_eq!(depth, Some(11));
    }

    #[test]
    fn the_plan_numbers_sampled_frames_among_the_kept() {
        // Kept in decoding order: I0 P3 B2(sampled? no) … with every 2.
        let plan = plan(vec![0, 3, 2, 6, 4, 7], 2);
        assert_eq!(plan.sampled, vec![0, 2, 4, 6]);
        assert_eq!(plan.positions, vec![0, 1, 3, 4]);
        assert_eq!(plan.kept, 6);
        let none = super::plan(vec![1, 3], 2);
        assert!(none.sampled.is_empty() && none.positions.is_empty());
    }
}
