//! Compiles every `.proto` under the workspace's `proto/` directory with protox, a pure-Rust
//! protobuf compiler, so that a fresh machine with only a Rust toolchain can build the project (no
//! system `protoc`). The encoded descriptor set is written next to the generated code for server
//! reflection and for the metrics layer's method table.
//!
//! `proto/third_party/` holds other projects' protos (gRPC's `grpc.testing` interop protos), whose
//! imports are relative to that directory: it is searched first, so each of its files is named as
//! its own project names it (`grpc/testing/test.proto`).

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto").canonicalize()?;
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let mut files = Vec::new();
    collect_protos(&proto_root, &mut files)?;
    files.sort();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let third_party = proto_root.join("third_party");
    let descriptors = protox::compile(&files, [&third_party, &proto_root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("file_descriptor_set.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
