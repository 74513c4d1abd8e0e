//! Prints the originals the embedded lexicon proposes for each spun word given
//! on the command line: `cargo run --release --example candidates -- rebuff existing`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lex = unspin::models::embedded_lexicon()?;
    let wn = unspin::models::embedded_wordnet()?;
    for w in std::env::args().skip(1) {
        println!(
            "{w}: rule output {:?}",
            unspin::spinner::rule_output(&wn, &w)
        );
        let Some(id) = lex.id(&w) else {
            println!("  (not in the lexicon)");
            continue;
        };
        println!("  p(replaced) as an original: {:.2}", lex.replace_prob(id));
        for c in lex.candidates(id) {
            println!(
                "  <- {:<16} {:<10} p={:.3}",
                lex.word(c.original),
                c.relation.as_str(),
                c.ln_prob.exp()
            );
        }
    }
    Ok(())
}
