//! `volsim report DIR [--out report.html] [--png]`: one self-contained HTML file (inline SVG,
//! no scripts or external assets) for a run directory (`summary.json` …) or a sweep results
//! directory (`sweep.json`). `--png` also writes each chart as PNG into `<out stem>_png/`.
//! Exit codes: 0 ok, 2 bad input or unwritable output.

use std::path::PathBuf;

use clap::Args;
use volsim::report::run_html::{png_dir_for, run_report};

#[derive(Args)]
pub struct ReportArgs {
    /// A run output directory or a sweep results directory.
    dir: PathBuf,
    /// The HTML file to write (default: DIR/report.html).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write every chart as PNG (run reports).
    #[arg(long)]
    png: bool,
}

pub fn main(a: ReportArgs) -> i32 {
    let out = a.out.unwrap_or_else(|| a.dir.join("report.html"));
    let page = if a.dir.join("sweep.json").exists() {
        volsim::sweep::report::sweep_report(&a.dir).map_err(|e| e.to_string())
    } else {
        let png = a.png.then(|| png_dir_for(&out));
        if let Some(p) = &png {
            if let Err(e) = std::fs::create_dir_all(p) {
                eprintln!("error: {}: {e}", p.display());
                return 2;
            }
        }
        run_report(&a.dir, png.as_deref()).map_err(|e| e.to_string())
    };
    let page = match page {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Err(e) = std::fs::write(&out, page.render()) {
        eprintln!("error: {}: {e}", out.display());
        return 2;
    }
    println!("wrote {}", out.display());
    0
}
