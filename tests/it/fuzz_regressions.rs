//! Every input the fuzz harness (`examples/fuzz.rs`, `docs/fuzzing.md`) found a bug with,
//! committed under `tests/fixtures/fuzz/<target>/`, parsed again through the harness's own
//! calls (`examples/fuzz/targets.rs`): no panic, no blow-up, and the outcome its `.expect`
//! file states — `ok`, or a text the error must contain (which names the file).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../../examples/fuzz/targets.rs"]
mod targets;

#[test]
fn committed_fuzz_findings_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for t in targets::TARGETS {
        let dir = root.join("tests/fixtures/fuzz").join(t.name);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let call = (t.make)(root);
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_none_or(|e| e != "expect"))
        {
            let bytes = std::fs::read(f).unwrap();
            let expect_file = f.with_extension("expect");
            let expect = std::fs::read_to_string(&expect_file)
                .unwrap_or_else(|e| panic!("{}: {e}", expect_file.display()));
            let expect = expect.trim();
            let input = targets::Input {
                bytes: &bytes,
                origin: f,
            };
            let t0 = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| call(&input)))
                .unwrap_or_else(|_| panic!("{}: the parser panicked", f.display()));
            // debug build, busy machine: generous; the harness holds release builds to 2 s
            assert!(t0.elapsed() < Duration::from_secs(20), "{}", f.display());
            match r {
                Ok(()) => assert_eq!(expect, "ok", "{}: accepted", f.display()),
                Err(e) => {
                    assert!(
                        e.contains(expect),
                        "{}: expected {expect:?} in {e}",
                        f.display()
                    );
                    if t.names_file {
                        assert!(e.contains(targets::LABEL), "{}: {e}", f.display());
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no committed findings under tests/fixtures/fuzz"
    );
}
