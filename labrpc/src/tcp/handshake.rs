//! The handshake that opens every connection, and the cluster secret's challenge-response.
//!
//! 1. client → server: [`MAGIC`], a version byte, a 16-byte client nonce `nc`;
//! 2. server → client: a 16-byte server nonce `ns`, a mode byte (0: open, 1: secret), and in
//!    secret mode the server's proof `HMAC(secret, "distlab server" | nc | ns)`;
//! 3. client → server, in secret mode: its proof `HMAC(secret, "distlab client" | ns | nc)`;
//! 4. server → client: a verdict byte (0: accepted, 1: refused).
//!
//! Each side proves itself over the other's fresh nonce, so a recorded handshake proves
//! nothing later. A client with a secret refuses a server without one (it could be anyone).
//! The client speaks first, so a server tells its peers from an HTTP client (`GET `) by the
//! first bytes.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Secret;
use crate::Error;

/// The first bytes of every connection.
pub const MAGIC: [u8; 4] = *b"DLAB";
/// The version of the wire format.
pub const VERSION: u8 = 1;
const NONCE: usize = 16;
const PROOF: usize = 32;
const OPEN: u8 = 0;
const SECRET: u8 = 1;
const ACCEPTED: u8 = 0;
const REFUSED: u8 = 1;

type Nonce = [u8; NONCE];

/// A fresh, unpredictable nonce.
#[allow(clippy::disallowed_methods)] // a real nonce must come from the OS, not a seed
fn nonce() -> Nonce {
    rand::random()
}

fn proof(secret: &Secret, role: &[u8], theirs: &Nonce, ours: &Nonce) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.key())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(role);
    mac.update(theirs);
    mac.update(ours);
    mac
}

fn io(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Transport(format!("handshake: {what}: {e}"))
}

/// The client's side: proves the secret (if any) and checks the server's.
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: Option<&Secret>,
) -> Result<(), Error> {
    let nc = nonce();
    let mut hello = MAGIC.to_vec();
    hello.push(VERSION);
    hello.extend_from_slice(&nc);
    stream
        .write_all(&hello)
        .await
        .map_err(io("sending hello"))?;
    let mut answer = [0u8; NONCE + 1];
    (stream.read_exact(&mut answer).await).map_err(io("reading the server's hello"))?;
    let mut ns = [0u8; NONCE];
    ns.copy_from_slice(&answer[..NONCE]);
    match (answer[NONCE], secret) {
        (OPEN, None) => {}
        (OPEN, Some(_)) => {
            return Err(Error::Transport(
                "the server does not use the cluster secret, so it cannot prove who it is; \
                 refusing to talk to it"
                    .into(),
            ));
        }
        (SECRET, None) => {
            return Err(Error::Transport(
                "the server requires the cluster secret (give it with --secret-file)".into(),
            ));
        }
        (SECRET, Some(secret)) => {
            let mut theirs = [0u8; PROOF];
            (stream.read_exact(&mut theirs).await).map_err(io("reading the server's proof"))?;
            proof(secret, b"distlab server", &nc, &ns)
                .verify_slice(&theirs)
                .map_err(|_| {
                    Error::Transport(
                        "the server does not hold our cluster secret: wrong secret".into(),
                    )
                })?;
            let ours = proof(secret, b"distlab client", &ns, &nc).finalize();
            (stream.write_all(&ours.into_bytes()).await).map_err(io("sending our proof"))?;
        }
        (mode, _) => {
            return Err(Error::Transport(format!(
                "the server answered with unknown mode {mode}: not a distlab server of version {VERSION}?"
            )));
        }
    }
    let mut verdict = [0u8; 1];
    (stream.read_exact(&mut verdict).await).map_err(io("reading the server's verdict"))?;
    match verdict[0] {
        ACCEPTED => Ok(()),
        _ => Err(Error::Transport(
            "the server refused our cluster secret: wrong secret".into(),
        )),
    }
}

/// The server's side, after the first four bytes (`MAGIC`) were read: checks the client's
/// proof. `Ok(false)`: the client was refused (and told so).
pub async fn server<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: Option<&Secret>,
) -> Result<bool, Error> {
    let mut rest = [0u8; 1 + NONCE];
    (stream.read_exact(&mut rest).await).map_err(io("reading the client's hello"))?;
    if rest[0] != VERSION {
        return Err(Error::Transport(format!(
            "the client speaks version {}, this server {VERSION}",
            rest[0]
        )));
    }
    let mut nc = [0u8; NONCE];
    nc.copy_from_slice(&rest[1..]);
    let ns = nonce();
    let mut answer = ns.to_vec();
    let Some(secret) = secret else {
        answer.extend_from_slice(&[OPEN, ACCEPTED]);
        stream.write_all(&answer).await.map_err(io("answering"))?;
        return Ok(true);
    };
    answer.push(SECRET);
    answer.extend_from_slice(
        &proof(secret, b"distlab server", &nc, &ns)
            .finalize()
            .into_bytes(),
    );
    stream.write_all(&answer).await.map_err(io("answering"))?;
    let mut theirs = [0u8; PROOF];
    (stream.read_exact(&mut theirs).await).map_err(io("reading the client's proof"))?;
    let good = proof(secret, b"distlab client", &ns, &nc)
        .verify_slice(&theirs)
        .is_ok();
    let verdict = if good { ACCEPTED } else { REFUSED };
    stream
        .write_all(&[verdict])
        .await
        .map_err(io("answering"))?;
    Ok(good)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn shake(
        client_secret: Option<&[u8]>,
        server_secret: Option<&[u8]>,
    ) -> (Result<(), Error>, Result<bool, Error>) {
        let to_secret = |s: Option<&[u8]>| s.map(|s| Secret::new(s).expect("long enough"));
        let (cs, ss) = (to_secret(client_secret), to_secret(server_secret));
        let (mut a, mut b) = tokio::io::duplex(1024);
        let client = async move {
            // A client that gives up closes its end, as a dropped connection does.
            let result = client(&mut a, cs.as_ref()).await;
            drop(a);
            result
        };
        let server = async {
            let mut magic = [0u8; 4];
            b.read_exact(&mut magic).await.expect("magic");
            assert_eq!(magic, MAGIC);
            server(&mut b, ss.as_ref()).await
        };
        tokio::join!(client, server)
    }

    const KEY: &[u8] = b"sixteen byte key";
    const OTHER: &[u8] = b"another long key";

    #[tokio::test]
    async fn matching_secrets_and_no_secrets_are_accepted() {
        let (c, s) = shake(Some(KEY), Some(KEY)).await;
        assert_eq!((c, s), (Ok(()), Ok(true)));
        let (c, s) = shake(None, None).await;
        assert_eq!((c, s), (Ok(()), Ok(true)));
    }

    #[tokio::test]
    async fn a_wrong_or_missing_secret_is_refused_with_a_reason() {
        let (c, s) = shake(Some(OTHER), Some(KEY)).await;
        assert!(
            c.expect_err("wrong secret")
                .to_string()
                .contains("wrong secret")
        );
        assert!(!matches!(s, Ok(true)), "the server must not accept: {s:?}");
        let (c, _) = shake(None, Some(KEY)).await;
        assert!(
            c.expect_err("no secret")
                .to_string()
                .contains("requires the cluster secret")
        );
        let (c, _) = shake(Some(KEY), None).await;
        assert!(
            c.expect_err("open server")
                .to_string()
                .contains("cannot prove")
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Secret::new(&b"short"[..]).is_err());
    }
}
