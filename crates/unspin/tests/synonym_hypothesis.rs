//! The generic synonym-spinner hypothesis of the restorer: text spun by a
//! synonym spinner (inflected forms, any sense) is partly restored, clean text
//! is left alone, and news-spun text still goes through the news hypothesis.

use unspin::eval::{align_words, edit_count};
use unspin::restore::{Model, Options, Restorer};
use unspin::spinner::Spinner;

/// Plain modern prose written for this test (no third-party text).
const PASSAGE: &str = "The city council met on Tuesday night to discuss the new budget. \
Members said the plan would raise taxes for most families and cut money for public schools. \
Several parents came to the meeting and asked the council to change the proposal before the final vote. \
The mayor told reporters that the city had no choice because the cost of health care had grown faster than expected. \
She said the council would look for other ways to save money, but she warned that some services might end. \
Teachers at the meeting said the cuts would mean larger classes and fewer books for children. \
One woman said her son had already lost his music class last year and that the school could not lose more. \
The council will hold another public meeting next week, and members hope to reach an agreement by the end of the month. \
Local business owners also spoke at the meeting. They said higher taxes would make it hard to keep their shops open \
and to hire new workers. The mayor said she understood their concerns and would meet with them again soon. \
Many people in the room said they were worried about the future of the city and wanted the council to listen to them.";

fn model() -> Model {
    Model::new(
        unspin::models::embedded_lm().expect("embedded language model"),
        unspin::models::embedded_lexicon().expect("embedded lexicon"),
    )
}

fn word_errors(reference: &str, hypothesis: &str) -> usize {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hypothesis.split_whitespace().collect();
    edit_count(&align_words(&r, &h))
}

#[test]
fn synonym_spun_text_is_partly_restored_and_clean_text_is_not_touched() {
    let model = model();
    let wn = unspin::models::embedded_wordnet().expect("embedded WordNet");
    let clean = Restorer::new(&model, Options::default()).restore(PASSAGE);
    assert!(
        clean.changes.is_empty(),
        "clean text changed: {:?}",
        clean.changes
    );
    // By default the synonym hypothesis needs more evidence than 30%
    // synonym spinning of one short passage gives (the margin keeps clean
    // text of other registers closed), and capitals stay fixed; a user who
    // knows the text is synonym-spun opens both.
    let open = Options {
        synonym_margin_per_word: 0.0,
        clean_margin: 0.0,
        capitalized_replace_prob: 0.05,
        ..Options::default()
    };
    let mut restorer = Restorer::new(&model, open.clone());
    let clean = restorer.restore(PASSAGE);
    assert!(
        clean.changes.is_empty(),
        "clean text changed: {:?}",
        clean.changes
    );

    let mut before = 0;
    let mut after = 0;
    for seed in 1..=4 {
        let spun = Spinner::synonym(&wn, 0.3, seed).spin(PASSAGE);
        before += word_errors(PASSAGE, &spun.text);
        let restored = restorer.restore(&spun.text);
        after += word_errors(PASSAGE, &restored.text);
        assert!(restored
            .changes
            .iter()
            .all(|c| c.relation == "generic_synonym"));
    }
    assert!(before > 40, "the spinner changed too little: {before}");
    assert!(
        (after as f64) < 0.95 * before as f64,
        "synonym restoration did not help: {before} errors spun, {after} restored"
    );

    // Without the hypothesis the same texts are not restored at all, so the
    // gain above comes from it.
    let off = Options {
        synonym_rate: 0.0,
        ..open
    };
    let spun = Spinner::synonym(&wn, 0.3, 1).spin(PASSAGE);
    assert!(Restorer::new(&model, off)
        .restore(&spun.text)
        .changes
        .is_empty());
}

#[test]
fn news_spun_text_keeps_the_news_hypothesis() {
    let model = model();
    let wn = unspin::models::embedded_wordnet().expect("embedded WordNet");
    let spun = Spinner::news(&wn, 1).spin(PASSAGE);
    let restored = Restorer::new(&model, Options::default()).restore(&spun.text);
    assert!(restored
        .changes
        .iter()
        .all(|c| c.relation != "generic_synonym"));
    assert!(
        word_errors(PASSAGE, &restored.text) * 3 < word_errors(PASSAGE, &spun.text),
        "news restoration regressed"
    );
}
