//! A value's bytes in formats other than the network's: a self-describing format (JSON, as a
//! researcher's log or tool might write) carries them as a list of numbers and reads them
//! back whole, and a wrong type is refused with a message that names what was expected.

use paxos::protocol::Bytes;

#[test]
fn bytes_round_trip_through_a_format_that_writes_them_as_numbers() {
    let value = Bytes(vec![0, 1, 254, 255, 7]);
    let json = serde_json::to_string(&value).expect("bytes encode");
    assert_eq!(json, "[0,1,254,255,7]");
    let back: Bytes = serde_json::from_str(&json).expect("bytes decode");
    assert_eq!(back, value);
    let empty: Bytes = serde_json::from_str("[]").expect("no bytes decode");
    assert_eq!(empty, Bytes(Vec::new()));
}

#[test]
fn a_value_of_another_type_is_refused_naming_a_byte_string() {
    let error = serde_json::from_str::<Bytes>("42").expect_err("a number is not bytes");
    assert!(
        error.to_string().contains("expected a byte string"),
        "the error does not say what was expected: {error}"
    );
    assert!(
        serde_json::from_str::<Bytes>("[256]").is_err(),
        "256 is not a byte"
    );
}
