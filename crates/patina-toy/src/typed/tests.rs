use super::*;

fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut d = [0u8; 32];
    d[0] = bytes.len() as u8;
    d[1] = bytes.first().copied().unwrap_or(0);
    d
}

fn text<T: Encode>(value: &T) -> (String, Vec<ValueBlob>) {
    let mut writer = WaveWriter::new(&digest);
    writer.value(value);
    writer.finish()
}

fn back<T: Decode>(text: &str, blobs: &[ValueBlob]) -> Result<T, WaveError> {
    let lookup = |d: &[u8; 32]| {
        blobs
            .iter()
            .find(|b| &b.digest == d)
            .map(|b| b.bytes.clone())
    };
    decode_all(text, &lookup)
}

#[test]
fn values_are_written_as_wave_writes_them() {
    assert_eq!(
        text(&(String::from("a\"b\n\u{1b}é"),)).0,
        r#"("a\"b\n\u{1b}é")"#
    );
    assert_eq!(text(&(Some(7u32), None::<u8>)).0, "(some(7), none)");
    assert_eq!(text(&(Ok::<(), String>(()),)).0, "(ok)");
    assert_eq!(text(&(Err::<u8, String>("x".into()),)).0, r#"(err("x"))"#);
    assert_eq!(text(&vec![1u8, 2, 3]).0, "[1, 2, 3]");
    assert_eq!(
        text(&(-5i64, 1.5f64, f64::NAN, 'x')).0,
        "(-5, 1.5, nan, 'x')"
    );
    assert_eq!(text(&(true, f64::INFINITY)).0, "(true, inf)");
    assert_eq!(text(&()).0, "()");
}

#[test]
fn records_leave_out_none_and_cases_that_are_keywords_get_a_percent() {
    let mut writer = WaveWriter::new(&digest);
    writer.record(&[("a", &1u8), ("b", &None::<u8>), ("c", &Some(2u8))]);
    writer.raw(" ");
    writer.record(&[("b", &None::<u8>)]);
    writer.raw(" ");
    writer.case("ok", None);
    writer.raw(" ");
    writer.case("too-large", Some(&9u64));
    assert_eq!(writer.finish().0, "{a: 1, c: some(2)} {:} %ok too-large(9)");
}

#[test]
fn a_byte_list_over_the_inline_limit_is_a_blob_reference() {
    let small = vec![9u8; INLINE_BYTES];
    let (inline, blobs) = text(&small);
    assert!(inline.starts_with("[9, 9"), "{inline}");
    assert!(blobs.is_empty());
    let large = vec![7u8; INLINE_BYTES + 1];
    let (reference, blobs) = text(&(large.clone(),));
    assert_eq!(reference, format!("(<blob:{}>)", hex(&digest(&large))));
    assert_eq!(
        blobs,
        [ValueBlob {
            digest: digest(&large),
            bytes: large.clone()
        }]
    );
    let read: (Vec<u8>,) = back(&reference, &blobs).unwrap();
    assert_eq!(read.0, large);
    let missing = back::<(Vec<u8>,)>(&reference, &[]).unwrap_err();
    assert!(
        missing.reason.contains("is not in the receipt"),
        "{missing}"
    );
}

#[test]
fn what_is_written_reads_back() {
    type T = (String, Vec<u8>, Option<Vec<String>>, Result<u64, String>);
    let value: T = (
        "q\"\\'\t".into(),
        vec![0, 255],
        Some(vec!["x".into()]),
        Err("e".into()),
    );
    let (written, blobs) = text(&value);
    assert_eq!(back::<T>(&written, &blobs).unwrap(), value);
    let unit: (Result<(), String>,) = back("(ok)", &[]).unwrap();
    assert_eq!(unit, (Ok(()),));
    // `wasm-wave` may write a trailing space or comma-free forms: both read.
    let spaced: (u8, u8) = back(" ( 1 ,2 ) ", &[]).unwrap();
    assert_eq!(spaced, (1, 2));
}

#[test]
fn text_that_does_not_fit_is_an_error_never_a_panic() {
    for bad in [
        "",
        "(",
        "(1",
        "(1,)x",
        "[1, 2",
        "(\"a)",
        "(\"\\q\")",
        "(\"\\u{110000}\")",
        "(300)",
        "(some(1)",
        "(<blob:zz>)",
        "(<blob:",
        "((((",
        "(-)",
        "(\u{0})",
    ] {
        assert!(
            back::<(u8,)>(bad, &[]).is_err(),
            "{bad:?} was accepted as (u8,)"
        );
        assert!(
            back::<(Vec<u8>,)>(bad, &[]).is_err(),
            "{bad:?} was accepted as (list<u8>,)"
        );
        assert!(
            back::<(String,)>(bad, &[]).is_err(),
            "{bad:?} was accepted as (string,)"
        );
        assert!(
            back::<(Option<u8>,)>(bad, &[]).is_err(),
            "{bad:?} was accepted as (option<u8>,)"
        );
    }
    let err = back::<(u8,)>("(ok)", &[]).unwrap_err();
    assert!(err.reason.contains("expected a u8"), "{err}");
}

#[test]
fn bytes_the_run_already_holds_are_referred_to_not_copied_again() {
    let large = vec![3u8; INLINE_BYTES + 1];
    let known = |d: &[u8; 32]| *d == digest(&large);
    let mut writer = WaveWriter::new(&digest).skipping_known(&known);
    writer.value(&(large.clone(), large.clone()));
    let (text, blobs) = writer.finish();
    let token = format!("<blob:{}>", hex(&digest(&large)));
    assert_eq!(text, format!("({token}, {token})"));
    assert!(blobs.is_empty(), "a known blob is not copied");
    let mut writer = WaveWriter::new(&digest);
    writer.value(&(large.clone(), large.clone()));
    assert_eq!(
        writer.finish().1.len(),
        1,
        "the same bytes twice are one blob"
    );
}
