//! Lets every binary and test find libtorch at run time without `LD_LIBRARY_PATH`: an rpath to the
//! libtorch that `.cargo/config.toml` points `LIBTORCH` at (installed by `bash .ci/setup`).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    match std::env::var("LIBTORCH") {
        Ok(libtorch) if Path::new(&libtorch).join("lib").is_dir() => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
        }
        Ok(libtorch) => println!(
            "cargo:warning=libtorch not found at {libtorch}: run `bash .ci/setup` first (it installs torch 2.13.0)"
        ),
        Err(_) => println!("cargo:warning=LIBTORCH is not set: run `bash .ci/setup` first"),
    }
}
