//! The wire format: every request and reply crosses the network as bytes.
//!
//! Values are encoded with postcard (compact, stable, serde-based). A request is the tarpc
//! request enum of its service, so its first byte(s) are the method's number as a varint; a
//! server checks that number against its service's method table before it decodes the rest,
//! which tells "unknown method" apart from "malformed arguments".

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserializer, Serialize};
use std::fmt;
use std::sync::Arc;
use tarpc::server::Serve;

use crate::Error;

/// A server's request handler with its types erased: request bytes in, reply bytes out. The
/// simulated network and the TCP transport dispatch through the same handler, so a server
/// answers malformed bytes and unknown methods alike in both worlds.
pub(crate) type Handler =
    Arc<dyn Fn(Vec<u8>) -> LocalBoxFuture<'static, Result<Vec<u8>, Error>> + Send + Sync>;

/// The handler of a tarpc server: decodes a request (method number first), serves it and
/// encodes the reply (the caller checks the reply against its size limit).
pub(crate) fn handler<S>(server: S) -> Handler
where
    S: Serve + Clone + Send + Sync + 'static,
    S::Req: DeserializeOwned,
    S::Resp: Serialize,
{
    let methods = variant_names::<S::Req>().len();
    Arc::new(move |bytes: Vec<u8>| {
        let server = server.clone();
        async move {
            let request: S::Req = decode_request(&bytes, methods)?;
            let reply = server
                .serve(crate::context(), request)
                .await
                .map_err(|e| Error::Server(e.detail))?;
            encode(&reply, usize::MAX)
        }
        .boxed_local()
    })
}

/// Encodes a value, refusing it if it is over `limit` bytes.
pub(crate) fn encode<T: Serialize>(value: &T, limit: usize) -> Result<Vec<u8>, Error> {
    let bytes = postcard::to_allocvec(value).map_err(|e| Error::Encode(e.to_string()))?;
    check_size(bytes.len(), limit)?;
    Ok(bytes)
}

/// Refuses a message over `limit` bytes.
pub(crate) fn check_size(bytes: usize, limit: usize) -> Result<(), Error> {
    if bytes > limit {
        return Err(Error::TooLarge { bytes, limit });
    }
    Ok(())
}

/// Decodes a message that must fill `bytes` exactly; `what` names it in the error.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, Error> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(Error::Decode(format!(
            "{what}: {} unexpected bytes after the value",
            rest.len()
        ))),
        Err(e) => Err(Error::Decode(format!("{what}: {e}"))),
    }
}

/// Decodes a request of a service whose request enum has `methods` variants.
pub(crate) fn decode_request<T: DeserializeOwned>(
    bytes: &[u8],
    methods: usize,
) -> Result<T, Error> {
    let index =
        leading_varint(bytes).ok_or_else(|| Error::Decode("request: no method number".into()))?;
    if index as usize >= methods {
        return Err(Error::UnknownMethod { index, methods });
    }
    decode(bytes, "request")
}

/// The varint postcard writes first for an enum: the variant's number.
fn leading_varint(bytes: &[u8]) -> Option<u32> {
    let mut value: u32 = 0;
    for (i, byte) in bytes.iter().take(5).enumerate() {
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The variant names of a serde enum, such as a tarpc service's request enum (one variant per
/// method), read from its `Deserialize` implementation without any input.
pub(crate) fn variant_names<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(VariantProbe) {
        Err(Probe::Variants(names)) => names,
        _ => &[],
    }
}

/// A deserializer that answers every request with an error, except that for an enum it
/// reports the variant list serde hands it.
struct VariantProbe;

#[derive(Debug)]
enum Probe {
    Variants(&'static [&'static str]),
    NotAnEnum,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant probe")
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Probe::NotAnEnum
    }
}

impl<'de> Deserializer<'de> for VariantProbe {
    type Error = Probe;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        Err(Probe::NotAnEnum)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probe> {
        Err(Probe::Variants(variants))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Req {
        Get { key: String },
        Put { key: String, value: String },
    }

    #[test]
    fn variant_names_of_an_enum() {
        assert_eq!(variant_names::<Req>(), &["Get", "Put"]);
        assert!(variant_names::<u32>().is_empty());
    }

    #[test]
    fn request_checks_method_before_arguments() {
        let put = Req::Put {
            key: "k".into(),
            value: "v".into(),
        };
        let bytes = encode(&put, 1024).expect("small value encodes");
        assert_eq!(decode_request::<Req>(&bytes, 2), Ok(put));
        assert_eq!(
            decode_request::<Req>(&[7, 0], 2),
            Err(Error::UnknownMethod {
                index: 7,
                methods: 2
            })
        );
        assert!(matches!(
            decode_request::<Req>(&[1, 9], 2),
            Err(Error::Decode(_))
        ));
        assert!(matches!(
            decode_request::<Req>(&[], 2),
            Err(Error::Decode(_))
        ));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            decode_request::<Req>(&trailing, 2),
            Err(Error::Decode(_))
        ));
        assert_eq!(leading_varint(&[0x80, 0x01]), Some(128));
    }

    #[test]
    fn size_limit_is_enforced() {
        let big = vec![0u8; 100];
        assert!(matches!(
            encode(&big, 50),
            Err(Error::TooLarge { limit: 50, .. })
        ));
    }
}
