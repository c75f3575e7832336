//! Embeds every `codemods/*.toml` file in the binary, so adding a codemod needs no Rust.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    // Read at run time, not compiled in: a build script binary reused from a shared target
    // directory (the same package built from another place, e.g. an unpacked sdist whose
    // files are older than the cache) must read this package's codemods.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("codemods");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("codemods/ exists")
        .map(|entry| entry.expect("readable codemods/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut generated = String::from("/// (file name, contents) of every bundled codemod.\n");
    generated.push_str("pub static BUNDLED_CODEMODS: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        writeln!(
            generated,
            "    ({:?}, include_str!({:?})),",
            format!("codemods/{name}"),
            path.display().to_string()
        )
        .unwrap();
    }
    generated.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("bundled_codemods.rs");
    fs::write(out, generated).expect("OUT_DIR is writable");
}
