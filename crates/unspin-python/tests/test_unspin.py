"""Tests of the `unspin` Python module (run by crates/unspin-python/tests/python_api.rs:
`bash scripts/build-python.sh && target/python-venv/bin/python -m unittest discover -s crates/unspin-python/tests -v`)."""

import concurrent.futures
import os
import re
import tempfile
import unittest

import unspin

# A real news-spinner output and its original (docs/FORMATS.md's example).
SPUN = "helium said the caller rules would beryllium published connected Monday"
ORIGINAL = "he said the new rules would be published on Monday"

# Plain English written for this test (not from the held-out corpus).
CLEAN = (
    "The city council met on Tuesday evening to discuss the budget for the coming year. "
    "Several members said that the money set aside for roads and schools was not enough, "
    "and they asked the mayor to find savings in other departments. The mayor said she "
    "would present a new plan next month after talking with residents in every district. "
    "Local business owners welcomed the debate but warned that higher taxes could drive "
    "customers away from the town centre. A final vote on the budget is expected before "
    "the end of the year, and the meeting will be open to the public."
)


def words(text):
    return re.findall(r"\w+", text.lower())


class RestoreTest(unittest.TestCase):
    def test_restores_a_news_spun_sentence(self):
        r = unspin.restore(SPUN)
        self.assertEqual(r["text"], ORIGINAL)
        self.assertEqual(
            [(c["spun"], c["original"]) for c in r["changes"]],
            [("helium", "he"), ("caller", "new"), ("beryllium", "be"), ("connected", "on")],
        )
        for c in r["changes"]:
            self.assertTrue(c["applied"])
            self.assertGreater(c["confidence"], 0.5)
            self.assertLessEqual(c["confidence"], 1.0)
            self.assertEqual(c["alternatives"][0]["text"], c["original"])
            self.assertIsInstance(c["relation"], str)
        self.assertEqual(r["words"], 10)

    def test_keeps_every_character_outside_changes(self):
        # Non-ASCII text, odd spacing and punctuation around the spun words:
        # byte and character offsets differ, and nothing else may move.
        text = "Zoë’s note —  helium said\tthe caller rules would beryllium published connected Monday…\r\n  ¡Olé!"
        r = unspin.restore(text)
        applied = [c for c in r["changes"] if c["applied"]]
        self.assertGreaterEqual(len(applied), 3)
        rebuilt, at = [], 0
        encoded = text.encode("utf-8")
        for c in r["changes"]:
            self.assertEqual(text[c["char_start"]:c["char_end"]], c["spun"])
            self.assertEqual(encoded[c["start"]:c["end"]].decode("utf-8"), c["spun"])
            if c["applied"]:
                rebuilt.append(text[at:c["char_start"]])
                rebuilt.append(c["original"])
                at = c["char_end"]
        rebuilt.append(text[at:])
        self.assertEqual(r["text"], "".join(rebuilt))
        self.assertTrue(r["text"].startswith("Zoë’s note —  he said\tthe new rules"))
        self.assertTrue(r["text"].endswith("Monday…\r\n  ¡Olé!"))

    def test_min_confidence_one_applies_nothing(self):
        r = unspin.restore(SPUN, min_confidence=1.0)
        self.assertEqual(r["text"], SPUN)
        self.assertTrue(r["changes"])
        self.assertFalse(any(c["applied"] for c in r["changes"]))

    def test_clean_text_is_mostly_unchanged(self):
        r = unspin.restore(CLEAN)
        self.assertLessEqual(len([c for c in r["changes"] if c["applied"]]), 2)

    def test_empty_text(self):
        r = unspin.restore("")
        self.assertEqual(r["text"], "")
        self.assertEqual(r["changes"], [])

    def test_threads_share_the_model_and_agree(self):
        texts = [SPUN, CLEAN, SPUN.upper(), SPUN + " " + CLEAN] * 3
        alone = [unspin.restore(t)["text"] for t in texts]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            together = list(pool.map(lambda t: unspin.restore(t)["text"], texts))
        self.assertEqual(alone, together)


class DetectTest(unittest.TestCase):
    def test_spun_text_scores_high_and_clean_text_low(self):
        spun = unspin.spin(CLEAN, profile="news", seed=1)["text"]
        d_spun = unspin.detect(spun)
        d_clean = unspin.detect(CLEAN)
        self.assertGreater(d_spun["prob"], 0.9)
        self.assertTrue(d_spun["spun"])
        self.assertLess(d_clean["prob"], 0.5)
        self.assertFalse(d_clean["spun"])
        self.assertEqual(d_spun["spun"], d_spun["prob"] >= d_spun["threshold"])

    def test_evidence_points_at_spun_words(self):
        d = unspin.detect(SPUN)
        self.assertTrue(d["spun"])
        self.assertGreater(d["prob"], 0.9)
        found = {e["text"]: e["original"] for e in d["evidence"]}
        self.assertEqual(found.get("beryllium"), "be")
        self.assertEqual(found.get("helium"), "he")
        for e in d["evidence"] + d["flagged"]:
            self.assertEqual(SPUN[e["char_start"]:e["char_end"]], e["text"])
        probs = [e["prob"] for e in d["evidence"]]
        self.assertTrue(probs)
        self.assertIn("word_threshold", d)
        self.assertEqual(sum(s["words"] for s in d["sections"]), d["words"])

    def test_threshold_and_word_options(self):
        d = unspin.detect(CLEAN, threshold=0.0)
        self.assertTrue(d["spun"])
        self.assertEqual(d["threshold"], 0.0)
        quick = unspin.detect(SPUN, words=False)
        self.assertEqual(quick["evidence"], [])
        self.assertEqual(quick["flagged"], [])
        self.assertAlmostEqual(quick["prob"], unspin.detect(SPUN)["prob"], places=5)
        self.assertEqual(len(unspin.detect(SPUN, evidence=2)["evidence"]), 2)

    def test_restore_option_refines_originals(self):
        d = unspin.detect(SPUN, restore=True)
        found = {e["text"]: e["original"] for e in d["flagged"]}
        self.assertEqual(found.get("caller"), "new")


class SpinTest(unittest.TestCase):
    def test_alignment_matches_both_texts(self):
        text = "Zoë said — the new rules would be published on Monday, before the vote."
        rates = {"news": None, "synonym": 0.9, "phrase": 1.0}
        for profile, rate in rates.items():
            s = unspin.spin(text, profile=profile, rate=rate, seed=2)
            self.assertTrue(s["changes"], profile)
            self.assertEqual(s["profile"], profile)
            rebuilt, at = [], 0
            for c in s["changes"]:
                self.assertEqual(text[c["orig_char_start"]:c["orig_char_end"]], c["original"])
                self.assertEqual(s["text"][c["spun_char_start"]:c["spun_char_end"]], c["spun"])
                rebuilt.append(text[at:c["orig_char_start"]])
                rebuilt.append(c["spun"])
                at = c["orig_char_end"]
            rebuilt.append(text[at:])
            self.assertEqual("".join(rebuilt), s["text"])

    def test_seed_fixes_the_output(self):
        a = unspin.spin(CLEAN, seed=7)
        self.assertEqual(a, unspin.spin(CLEAN, seed=7))
        self.assertNotEqual(a["text"], unspin.spin(CLEAN, seed=8)["text"])

    def test_rate_controls_the_share_replaced(self):
        low = len(unspin.spin(CLEAN, profile="synonym", rate=0.05, seed=1)["changes"])
        high = len(unspin.spin(CLEAN, profile="synonym", rate=0.6, seed=1)["changes"])
        self.assertLess(low, high)
        self.assertEqual(unspin.spin(CLEAN, profile="news", rate=0.0)["changes"], [])

    def test_restore_undoes_news_spinning(self):
        spun = unspin.spin(CLEAN, profile="news", seed=3)
        before = sum(a != b for a, b in zip(words(spun["text"]), words(CLEAN)))
        restored = unspin.restore(spun["text"])["text"]
        after = sum(a != b for a, b in zip(words(restored), words(CLEAN)))
        self.assertEqual(len(words(restored)), len(words(CLEAN)))
        self.assertGreater(before, 20)
        # The restorer gets most substitutions back (about 95% on the held-out corpus).
        self.assertLess(after, before * 0.25)


class LearnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Pages of one news spinner (seed 3 fixes its table), no originals.
        pages = [unspin.spin(CLEAN, profile="news", seed=3)["text"] for _ in range(4)]
        pages += [unspin.spin(HARBOUR, profile="news", seed=3)["text"] for _ in range(4)]
        cls.pages = pages
        cls.spinner = unspin.learn(pages)

    def test_learned_table_holds_the_spinners_pairs(self):
        table = self.spinner.table()
        self.assertGreater(len(table), 5)
        self.assertGreater(self.spinner.words, 400)
        counts = [row["count"] for row in table]
        self.assertEqual(counts, sorted(counts, reverse=True))
        # The spinner writes "helium" for "he" every time.
        spun = unspin.spin(CLEAN, profile="news", seed=3)
        pairs = {(c["spun"].lower(), c["original"].lower()) for c in spun["changes"]}
        learned = {(row["written"], row["originals"][0][0]) for row in table}
        self.assertGreater(len(pairs & learned), 5, (pairs, learned))
        self.assertIn("unspin.Spinner(", repr(self.spinner))
        # The news spinner leaves capitalized words alone.
        classes = self.spinner.classes
        self.assertEqual(set(classes), {"plain", "capitalized", "attached", "function_words", "digits"})
        self.assertLess(classes["capitalized"]["touched"], 0.5, classes)

    def test_restore_and_detect_take_a_spinner_or_its_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "site.spinner")
            self.spinner.save(path)
            loaded = unspin.Spinner.load(path)
            self.assertEqual(loaded.table(), self.spinner.table())
            by_object = unspin.restore(self.pages[0], spinner=self.spinner)
            by_path = unspin.restore(self.pages[0], spinner=path)
            self.assertEqual(by_object, by_path)
            det = unspin.detect(self.pages[0], spinner=loaded)
            self.assertTrue(det["spun"])
            with open(path, "r+b") as f:
                f.seek(-1, os.SEEK_END)
                last = f.read(1)
                f.seek(-1, os.SEEK_END)
                f.write(bytes([last[0] ^ 0x40]))
            with self.assertRaises(ValueError):
                unspin.Spinner.load(path)
            with self.assertRaises(ValueError):
                unspin.restore("text", spinner=path)
            with self.assertRaises(OSError):
                unspin.Spinner.load(os.path.join(tmp, "missing.spinner"))
        with self.assertRaises(TypeError):
            unspin.restore("text", spinner=3)
        with self.assertRaises(ValueError):
            unspin.learn(["", "  "])


# A second original for the trace index, also written for this test.
HARBOUR = (
    "Fishing boats stayed in the harbour for a third day on Friday as strong winds and high "
    "waves kept crews ashore. The harbour master said the storm should pass by Sunday morning, "
    "but warned that the sea would stay rough until the middle of next week. Some captains said "
    "they had lost more than a week of work this month and asked the government for help with "
    "fuel costs. Shops near the quay reported fewer visitors than usual, although the new museum "
    "of maritime history drew a large crowd despite the rain."
)


class IndexTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "news.idx")

    def tearDown(self):
        self.dir.cleanup()

    def test_traces_a_spun_copy_to_its_source(self):
        index = unspin.Index(self.path)
        self.assertEqual(index.path, self.path)
        summary = index.add({"council": CLEAN, "harbour": HARBOUR})
        self.assertEqual((summary["added"], summary["documents"]), (2, 2))
        again = index.add([("council", CLEAN)])
        self.assertEqual((again["added"], again["unchanged"], again["documents"]), (0, 1, 2))
        for seed, name in ((1, "council"), (2, "harbour")):
            original = CLEAN if name == "council" else HARBOUR
            spun = unspin.spin(original, profile="news", seed=seed)["text"]
            report = index.trace("Copied: " + spun, k=5)
            self.assertTrue(report["sources"], name)
            best = report["sources"][0]
            self.assertEqual((best["rank"], best["id"]), (1, name))
            self.assertGreater(best["score"], 20)
            self.assertTrue(all(s["id"] != name for s in report["sources"][1:]))
            for p in best["passages"]:
                q = p["query"]
                self.assertEqual(("Copied: " + spun)[q["char_start"]:q["char_end"]], q["text"])
        unrelated = "Quarterly revenue of the software company rose by nine percent, helped by cloud subscriptions."
        self.assertEqual(index.trace(unrelated)["sources"], [])

    def test_index_errors(self):
        with self.assertRaises(OSError):
            unspin.Index(os.path.join(self.dir.name, "missing.idx")).trace(CLEAN)
        index = unspin.Index(self.path)
        index.add({"council": CLEAN})
        with self.assertRaises(ValueError):
            index.trace(CLEAN, k=0)
        with self.assertRaises(TypeError):
            index.add(["not a pair"])
        with self.assertRaises(TypeError):
            index.add({"id": 5})
        with self.assertRaises(ValueError):
            index.add({"bad": "nul\x00byte"})
        not_index = os.path.join(self.dir.name, "plain.txt")
        with open(not_index, "w") as f:
            f.write("just text, not an index\n")
        with self.assertRaises((ValueError, OSError)) as caught:
            unspin.Index(not_index).trace(CLEAN)
        self.assertNotIn("\n", str(caught.exception))


class ErrorTest(unittest.TestCase):
    def test_non_str_text_is_a_type_error(self):
        for f in (unspin.restore, unspin.detect, unspin.spin):
            for bad in (5, None, b"bytes", ["a"]):
                with self.assertRaises(TypeError):
                    f(bad)

    def test_bad_options_are_value_errors(self):
        cases = [
            lambda: unspin.spin("text", profile="fancy"),
            lambda: unspin.spin("text", rate=1.5),
            lambda: unspin.spin("text", profile="synonym", rate=-0.1),
            lambda: unspin.restore("text", min_confidence=2),
            lambda: unspin.detect("text", threshold=-1),
            lambda: unspin.detect("text", evidence=5000),
            lambda: unspin.restore("binary\x00data"),
            lambda: unspin.detect("binary\x00data"),
            lambda: unspin.spin("binary\x00data"),
            lambda: unspin.restore("\ud800 lone surrogate"),
        ]
        for case in cases:
            with self.assertRaises(ValueError) as caught:
                case()
            message = str(caught.exception)
            self.assertTrue(message)
            self.assertNotIn("\n", message)

    def test_negative_seed_and_wrong_option_types(self):
        with self.assertRaises((OverflowError, ValueError)):
            unspin.spin("text", seed=-1)
        with self.assertRaises(TypeError):
            unspin.detect("text", threshold="high")
        with self.assertRaises(TypeError):
            unspin.restore("text", unknown=1)


if __name__ == "__main__":
    unittest.main()
