//! Opening trace files: plain or gzip-compressed, detected by the gzip magic bytes (not the
//! file name), so `trace.swf.gz`, `openb.csv.gz` and `history.json.gz` read like their plain
//! versions wherever a trace is read.
//!
//! Depends only on std and `flate2`.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `path` for buffered reading, decompressing gzip (multi-member too) transparently.
pub fn open_input(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let mut r = BufReader::new(std::fs::File::open(path)?);
    let gz = r.fill_buf()?.starts_with(&GZIP_MAGIC);
    Ok(if gz {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(r)))
    } else {
        Box::new(r)
    })
}

/// A buffered reader over bytes already read from a file, decompressing gzip (multi-member
/// too) like [`open_input`] does, so a file read once (e.g. for a digest) is not opened again.
pub fn reader_of(bytes: &[u8]) -> Box<dyn BufRead + '_> {
    if bytes.starts_with(&GZIP_MAGIC) {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(bytes)))
    } else {
        Box::new(bytes)
    }
}

/// Reads the whole (decompressed) content of `path`.
pub fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    open_input(path)?.read_to_end(&mut out)?;
    Ok(out)
}

/// Reads the whole (decompressed) content of `path` as UTF-8 text.
pub fn read_input_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read_input(path)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

/// Whether a file name looks like a gzip file (`.gz`), for directory scans.
pub fn strip_gz(name: &str) -> &str {
    name.strip_suffix(".gz").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_plain_read_alike() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.txt");
        std::fs::write(&plain, "hello\nworld\n").unwrap();
        let gz = dir.path().join("a.txt.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"hello\nworld\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(read_input(&plain).unwrap(), read_input(&gz).unwrap());
        let mut from_bytes = Vec::new();
        reader_of(&std::fs::read(&gz).unwrap())
            .read_to_end(&mut from_bytes)
            .unwrap();
        assert_eq!(from_bytes, b"hello\nworld\n");
        assert_eq!(read_input_string(&gz).unwrap(), "hello\nworld\n");
        assert_eq!(strip_gz("x.json.gz"), "x.json");
        assert!(read_input(&dir.path().join("missing")).is_err());
    }
}
