//! `unspin eval`: score a restoration against the original text.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use unspin::eval::{evaluate, AlignmentRecord, EvalReport};
use unspin::jsonl;

/// Output formats of `unspin eval`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum EvalFormat {
    /// A table of counts and rates.
    Text,
    /// One JSON object: {"counts": {...}, "metrics": {...}}.
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
unspin eval --reference orig.txt --input spun.txt --output restored.txt\n  \
unspin eval --reference orig.txt --input spun.txt --output restored.txt --alignment spun.align.jsonl\n  \
unspin eval --jsonl --reference heldout.jsonl --input spun.jsonl --output restored.jsonl --format json\n\n\
Words are whitespace-separated and compared case-sensitively; texts with equal line counts\n\
are aligned line by line. See the unspin::eval documentation for the metric definitions.")]
pub struct EvalArgs {
    /// The original text.
    #[arg(long, short, value_name = "FILE")]
    pub reference: PathBuf,
    /// The spun text that was given to the system.
    #[arg(long, short, value_name = "FILE")]
    pub input: PathBuf,
    /// What the system made of the input.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// The spinner's alignment records (JSONL: orig_start, orig_end, spun_start, spun_end,
    /// original, spun, relation, profile; byte offsets), for recall per relation.
    #[arg(long, short, value_name = "JSONL")]
    pub alignment: Option<PathBuf>,
    /// The three files are JSONL corpora of {"id": .., "text": ..} documents, matched by id;
    /// alignment records are then matched by their "id" (or "doc").
    #[arg(long)]
    pub jsonl: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = EvalFormat::Text)]
    pub format: EvalFormat,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a JSONL corpus: document id -> text, in file order.
fn read_jsonl_docs(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = read(path)?;
    let mut docs = Vec::new();
    let mut seen = HashMap::new();
    for line in jsonl::lines(&text) {
        let line = line.map_err(|e| not_json(path, e))?;
        let k = line.number;
        let id = line
            .id_string()
            .with_context(|| format!("{} line {k}: no \"id\"", path.display()))?;
        let Some(body) = line.text() else {
            bail!("{} line {k}: no \"text\" string", path.display());
        };
        if seen.insert(id.clone(), k).is_some() {
            bail!("{} line {k}: duplicate id {id}", path.display());
        }
        docs.push((id, body.to_string()));
    }
    Ok(docs)
}

/// `PATH line N: not JSON`, with serde_json's message as the cause.
fn not_json(path: &Path, e: jsonl::LineError) -> anyhow::Error {
    anyhow::Error::new(e.error).context(format!("{} line {}: not JSON", path.display(), e.number))
}

/// Reads alignment records grouped by document: the record's "id", else its
/// "doc" (what `unspin spin --alignment` writes), else "".
fn read_alignment(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<AlignmentRecord>>> {
    let text = read(path)?;
    let mut out: BTreeMap<String, Vec<AlignmentRecord>> = BTreeMap::new();
    for line in jsonl::lines(&text) {
        let line = line.map_err(|e| not_json(path, e))?;
        let where_ = || format!("{} line {}", path.display(), line.number);
        let id = line
            .id_string()
            .or_else(|| line.str_field("doc").map(str::to_string))
            .unwrap_or_default();
        let rec: AlignmentRecord = serde_json::from_value(line.value)
            .with_context(|| format!("{}: not an alignment record", where_()))?;
        out.entry(id).or_default().push(rec);
    }
    Ok(out)
}

/// Evaluates the files named in `args` (see [`EvalArgs`]).
pub fn evaluate_files(args: &EvalArgs) -> anyhow::Result<EvalReport> {
    let alignment = args.alignment.as_deref().map(read_alignment).transpose()?;
    if !args.jsonl {
        let reference = read(&args.reference)?;
        let input = read(&args.input)?;
        let output = read(&args.output)?;
        let records = match &alignment {
            None => None,
            Some(a) if a.len() > 1 => bail!(
                "{} holds records of {} documents; evaluate one document at a time or use --jsonl",
                args.alignment.as_deref().unwrap_or(Path::new("")).display(),
                a.len()
            ),
            Some(a) => Some(a.values().next().map_or(&[][..], Vec::as_slice)),
        };
        return Ok(evaluate(&reference, &input, &output, records));
    }
    let reference = read_jsonl_docs(&args.reference)?;
    let input: HashMap<String, String> = read_jsonl_docs(&args.input)?.into_iter().collect();
    let output: HashMap<String, String> = read_jsonl_docs(&args.output)?.into_iter().collect();
    let mut total = EvalReport::default();
    for (id, ref_text) in &reference {
        let Some(in_text) = input.get(id) else {
            bail!("document {id} is missing from {}", args.input.display());
        };
        let Some(out_text) = output.get(id) else {
            bail!("document {id} is missing from {}", args.output.display());
        };
        let records = alignment
            .as_ref()
            .map(|a| a.get(id).map_or(&[][..], Vec::as_slice));
        total.merge(&evaluate(ref_text, in_text, out_text, records));
    }
    if let Some(a) = &alignment {
        let known: std::collections::HashSet<&str> =
            reference.iter().map(|(id, _)| id.as_str()).collect();
        if let Some(id) = a.keys().find(|id| !known.contains(id.as_str())) {
            if id.is_empty() {
                bail!("alignment records without an \"id\" or \"doc\" (needed with --jsonl)");
            }
            bail!(
                "alignment records name document {id}, which is not in {}",
                args.reference.display()
            );
        }
    }
    Ok(total)
}

/// Runs `unspin eval`: prints the report to standard output.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let report = evaluate_files(args)?;
    // write! rather than print!, which panics on a closed pipe.
    let mut out = std::io::stdout().lock();
    match args.format {
        EvalFormat::Text => write!(out, "{}", report.to_table())?,
        EvalFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn args(dir: &Path, r: &str, i: &str, o: &str, jsonl: bool) -> EvalArgs {
        EvalArgs {
            reference: write(dir, "ref", r),
            input: write(dir, "in", i),
            output: write(dir, "out", o),
            alignment: None,
            jsonl,
            format: EvalFormat::Json,
        }
    }

    #[test]
    fn plain_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(
            dir.path(),
            "x because y.\n",
            "x due to the fact that y.\n",
            "x because y.\n",
            false,
        );
        let rep = evaluate_files(&a).unwrap();
        assert_eq!(rep.output_edits.total(), 0);
        assert_eq!(rep.input_edits.total(), 5);
        assert!(rep.relations.is_empty());
        let rec = r#"{"orig_start":2,"orig_end":9,"spun_start":2,"spun_end":22,"original":"because","spun":"due to the fact that","relation":"phrase","profile":"news"}"#;
        a.alignment = Some(write(dir.path(), "align", &format!("{rec}\n")));
        let rep = evaluate_files(&a).unwrap();
        assert_eq!(rep.relations["phrase"].restored, 1);
        assert_eq!(rep.alignment_records_skipped, 0);
        run(&a).unwrap();
        let two = format!(
            "{}\n{}\n",
            rec.replace("{", "{\"doc\":\"x\","),
            rec.replace("{", "{\"doc\":\"y\",")
        );
        a.alignment = Some(write(dir.path(), "align2", &two));
        assert!(evaluate_files(&a)
            .unwrap_err()
            .to_string()
            .contains("2 documents"));
    }

    #[test]
    fn jsonl_documents_matched_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let r =
            "{\"id\":\"a\",\"text\":\"one two three\"}\n{\"id\":\"b\",\"text\":\"four five\"}\n";
        let i = "{\"id\":\"b\",\"text\":\"four 5\"}\n{\"id\":\"a\",\"text\":\"one 2 three\"}\n";
        let o = "{\"id\":\"a\",\"text\":\"one two three\"}\n{\"id\":\"b\",\"text\":\"four 5\"}\n";
        let mut a = args(dir.path(), r, i, o, true);
        let rep = evaluate_files(&a).unwrap();
        assert_eq!(rep.documents, 2);
        assert_eq!((rep.needed_changes, rep.correct_changes), (2, 1));
        let rec = r#"{"doc":"b","orig_start":5,"orig_end":9,"spun_start":5,"spun_end":6,"original":"five","spun":"5","relation":"digit","profile":"x"}"#;
        a.alignment = Some(write(dir.path(), "align", &format!("{rec}\n")));
        let rep = evaluate_files(&a).unwrap();
        assert_eq!(rep.relations["digit"].total, 1);
        assert_eq!(rep.relations["digit"].restored, 0);
        a.output = write(dir.path(), "out2", "{\"id\":\"a\",\"text\":\"x\"}\n");
        assert!(evaluate_files(&a)
            .unwrap_err()
            .to_string()
            .contains("document b is missing"));
    }
}
