//! The events connections: kept for the next request, replaced when the server
//! closed them, never reused when the server said `Connection: close`. The
//! events endpoint here is a raw TCP server that counts its connections and
//! answers each request as the test says; tokens come from the scripted server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::envelope;
use proactive_core::client::Client;

use super::server::Server;

/// What the raw server does after answering a request.
#[derive(Clone, Copy)]
enum After {
    /// Keeps the connection for the next request.
    KeepOpen,
    /// Closes it, although the answer did not say so.
    Close,
    /// Says `Connection: close` in the answer, and closes it.
    SayClose,
}

/// An events endpoint on loopback answering 202 to every request.
struct RawServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    async fn start(after: After) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (connections, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (counted, answered) = (Arc::clone(&connections), Arc::clone(&requests));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(stream, after, Arc::clone(&answered)));
            }
        });
        Self { port, connections, requests, task }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads requests from `stream` (head, then `Content-Length` bytes of body)
/// and answers each with 202, doing `after` after each.
async fn answer(mut stream: TcpStream, after: After, answered: Arc<AtomicUsize>) {
    let mut read = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") else {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&read[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse().unwrap());
        while read.len() < end + 4 + length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&chunk[..n]),
            }
        }
        read.drain(..end + 4 + length);
        answered.fetch_add(1, Ordering::SeqCst);
        let close = if matches!(after, After::SayClose) { "connection: close\r\n" } else { "" };
        let reply = format!("HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n{close}\r\n");
        if stream.write_all(reply.as_bytes()).await.is_err() || !matches!(after, After::KeepOpen) {
            return;
        }
    }
}

/// A raw events server doing `after`, the scripted server for tokens, and a
/// client sending to the first with tokens from the second.
async fn start(after: After) -> (RawServer, Server, Client) {
    let tokens = Server::start(|_, _| unreachable!("events go to the raw server")).await;
    let raw = RawServer::start(after).await;
    let client = tokens.client().base_url(format!("http://127.0.0.1:{}", raw.port)).build().unwrap();
    (raw, tokens, client)
}

#[tokio::test]
async fn one_connection_carries_every_request_sent_one_after_another() {
    let (raw, _tokens, client) = start(After::KeepOpen).await;
    for id in ["kept-1", "kept-2", "kept-3", "kept-4", "kept-5"] {
        let accepted = client.send(&envelope(id)).await.unwrap();
        assert_eq!((accepted.status(), accepted.attempts()), (202, 1));
    }
    assert_eq!((raw.requests(), raw.connections()), (5, 1));
}

#[tokio::test]
async fn a_kept_connection_the_server_closed_is_replaced_without_a_retry() {
    let (raw, _tokens, client) = start(After::Close).await;
    for id in ["closed-1", "closed-2", "closed-3"] {
        let accepted = client.send(&envelope(id)).await.unwrap();
        assert_eq!((accepted.status(), accepted.attempts()), (202, 1), "{id}: one attempt, on a new connection");
        // Time for the close to arrive before the next request.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((raw.requests(), raw.connections()), (3, 3));
}

#[tokio::test]
async fn a_connection_the_answer_closes_is_not_kept() {
    let (raw, _tokens, client) = start(After::SayClose).await;
    for id in ["said-1", "said-2", "said-3"] {
        let accepted = client.send(&envelope(id)).await.unwrap();
        assert_eq!((accepted.status(), accepted.attempts()), (202, 1));
    }
    assert_eq!((raw.requests(), raw.connections()), (3, 3));
}

#[tokio::test]
async fn a_bulk_send_opens_no_more_connections_than_its_concurrency() {
    let (raw, _tokens, client) = start(After::KeepOpen).await;
    let envelopes: Vec<_> = (0..200).map(|i| envelope(&format!("bulk-{i}"))).collect();
    let outcomes: Vec<_> = client.send_all(&envelopes, 4).collect().await;
    assert!(outcomes.iter().all(|outcome| outcome.result.as_ref().is_ok_and(|a| a.attempts() == 1)));
    assert_eq!(raw.requests(), 200);
    assert!((1..=4).contains(&raw.connections()), "{} connections for 4 at a time", raw.connections());
}

#[tokio::test]
async fn clones_share_the_kept_connections() {
    let (raw, _tokens, client) = start(After::KeepOpen).await;
    client.send(&envelope("first")).await.unwrap();
    let clone = client.clone();
    clone.send(&envelope("second")).await.unwrap();
    assert_eq!((raw.requests(), raw.connections()), (2, 1));
}
