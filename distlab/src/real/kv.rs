//! `distlab kv` and `distlab status`: clients of servers run by `distlab serve`.
//!
//! `kv` runs one operation through the lab's own clerk — paxoskv's, which tries the servers
//! in turn, or pbkv's, which asks the view service for the primary — and gives up after
//! `--timeout`, saying what each server answered to a status call.

use futures::future::join_all;
use labrpc::tcp::TcpOptions;
use labrpc::{ClientEnd, Node};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

use super::{Failure, detail, run_local, tcp_options};
use crate::cli::{KvArgs, KvOp, StatusArgs};

/// The clerk of the store `distlab kv` talks to.
enum Clerk {
    Paxoskv(paxoskv::Clerk),
    Pbkv(pbkv::Clerk),
}

impl Clerk {
    /// Runs `op` until it is carried out: a Get's value, `None` for a Put or an Append.
    async fn run(&mut self, op: &KvOp) -> Option<String> {
        macro_rules! on_clerk {
            ($clerk:ident) => {
                match op {
                    KvOp::Get { key } => Some($clerk.get(key).await),
                    KvOp::Put { key, value } => {
                        $clerk.put(key, value).await;
                        None
                    }
                    KvOp::Append { key, value } => {
                        $clerk.append(key, value).await;
                        None
                    }
                }
            };
        }
        match self {
            Clerk::Paxoskv(clerk) => on_clerk!(clerk),
            Clerk::Pbkv(clerk) => on_clerk!(clerk),
        }
    }
}

/// Runs `distlab kv`: prints a Get's value (an empty line for a key without one) or `ok`.
pub fn kv(args: &KvArgs) -> Result<(), Failure> {
    let options = tcp_options(args.secret_file.as_deref(), false)?;
    let (addrs, pbkv) = match &args.viewservice {
        Some(vs) => (vec![vs.clone()], true),
        None => (args.servers.clone(), false),
    };
    if addrs.iter().any(|a| a.trim().is_empty()) {
        return Err(Failure::usage("an empty server address"));
    }
    run_local(async {
        let node = Node::real_client("distlab-client", options.clone());
        let mut clerk = if pbkv {
            Clerk::Pbkv(pbkv::Clerk::on(node, &addrs[0]))
        } else {
            Clerk::Paxoskv(paxoskv::Clerk::on(node, &addrs))
        };
        match tokio::time::timeout(args.timeout, clerk.run(&args.op)).await {
            Ok(Some(value)) => println!("{value}"),
            Ok(None) => println!("ok"),
            Err(_) => {
                let why = diagnose(&addrs, Arc::new(options)).await;
                let whom = if pbkv { "no primary" } else { "no server" };
                return Err(Failure::failed(format!(
                    "{whom} answered within {:?}:\n{why}",
                    args.timeout
                )));
            }
        }
        Ok(())
    })
}

/// One line per address: why its status call failed, or what it reports.
async fn diagnose(addrs: &[String], options: Arc<TcpOptions>) -> String {
    let reports = addrs.iter().map(|addr| {
        let end = ClientEnd::<(), ()>::tcp(addr, options.clone());
        async move {
            let what = match end.status().await {
                Ok(status) => summary(&status),
                Err(e) => error_text(addr, &e),
            };
            format!("  {addr}: {what}")
        }
    });
    join_all(reports).await.join("\n")
}

/// A status report in a few words: the role, and the view if there is one.
fn summary(status: &Value) -> String {
    let role = status["role"].as_str().unwrap_or("unknown role");
    let view = (status.get("view").cloned())
        .and_then(|view| serde_json::from_value::<viewservice::View>(view).ok());
    match view {
        Some(view) => format!("up ({role}; {view})"),
        None => format!("up ({role}) but did not carry out the operation"),
    }
}

/// A call's error without the prefixes that repeat the address or say "transport".
fn error_text(addr: &str, error: &labrpc::Error) -> String {
    let text = detail(error);
    let text = text.strip_prefix(&format!("{addr}: ")).unwrap_or(&text);
    text.strip_prefix("transport failed: ")
        .unwrap_or(text)
        .to_owned()
}

/// Runs `distlab status ADDR`: prints the server's status report, pretty; with `--healthz`,
/// its answer to `GET /healthz`.
pub fn status(args: &StatusArgs) -> Result<(), Failure> {
    if args.healthz {
        return run_local(healthz(&args.addr, args.timeout));
    }
    let options = Arc::new(tcp_options(args.secret_file.as_deref(), false)?);
    run_local(async {
        let mut end = ClientEnd::<(), ()>::tcp(&args.addr, options);
        end.set_timeout(Some(args.timeout.max(Duration::from_millis(1))));
        let report = end.status().await.map_err(|e| {
            Failure::failed(format!("{}: {}", args.addr, error_text(&args.addr, &e)))
        })?;
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::error(format!("cannot print the report: {e}")))?;
        println!("{text}");
        Ok(())
    })
}

/// `distlab status --healthz ADDR`: `Ok` if `GET /healthz` answers 200 within `timeout`.
async fn healthz(addr: &str, timeout: Duration) -> Result<(), Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nconnection: close\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        // The server closes the connection after its one answer; a few KB at most.
        stream.take(64 << 10).read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    let answer = tokio::time::timeout(timeout, ask)
        .await
        .map_err(|_| Failure::failed(format!("{addr}: no answer within {timeout:?}")))?
        .map_err(|e| Failure::failed(format!("{addr}: {e}")))?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status_line = head.lines().next().unwrap_or_default();
    println!("{}", body.trim_end());
    if status_line.split(' ').nth(1) == Some("200") {
        Ok(())
    } else if status_line.starts_with("HTTP/") {
        Err(Failure::failed(format!(
            "{addr} does not serve yet ({status_line})"
        )))
    } else {
        Err(Failure::failed(format!(
            "{addr} did not answer HTTP: {status_line:?}"
        )))
    }
}
