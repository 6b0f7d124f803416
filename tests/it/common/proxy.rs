//! A small TCP proxy for fault tests and `scripts/bigfleet.sh`: in front of moto (or any
//! loopback server) it passes traffic through, adds latency (per connection or per
//! request), resets connections, or accepts and never answers. The
//! fault can be changed while it runs; a change also cuts the connections already open, so
//! pooled client connections meet the new fault too. Loopback only; stops when dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Bytes go through untouched.
    Pass,
    /// Each connection waits this long before anything goes through.
    Latency(Duration),
    /// Each request waits this long (a region's round trip): a chunk from the client
    /// after the last answer is a new request, since clients keep connections alive.
    PerRequest(Duration),
    /// Each connection is reset (RST) as soon as it is accepted.
    Reset,
    /// Connections are accepted and then nothing is ever said.
    Silent,
}

pub struct Proxy {
    pub url: String,
    fault: tokio::sync::watch::Sender<Fault>,
    connections: Arc<AtomicUsize>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Proxy {
    /// A proxy to `upstream` (`127.0.0.1:port`), passing traffic through.
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (fault, changes) = tokio::sync::watch::channel(Fault::Pass);
        let connections = Arc::new(AtomicUsize::new(0));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let c = connections.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let mut changes = changes.clone();
                let fault = *changes.borrow_and_update();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    // Every connection ends within a minute, or when the fault changes.
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                        _ = changes.changed() => {}
                        () = handle(client, &upstream, fault) => {}
                    }
                });
            }
        });
        Self {
            url,
            fault,
            connections,
            _stop: stop,
        }
    }

    /// Changes the fault for new connections.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn handle(client: TcpStream, upstream: &str, fault: Fault) {
    match fault {
        Fault::Reset => {
            // A zero linger makes the close an immediate RST; with zero it never blocks,
            // which is what the deprecation warns about.
            #[allow(deprecated)]
            let _ = client.set_linger(Some(Duration::ZERO));
            drop(client);
        }
        Fault::Silent => {
            std::future::pending::<()>().await;
        }
        Fault::Latency(delay) => {
            tokio::time::sleep(delay).await;
            pass(client, upstream).await;
        }
        Fault::PerRequest(delay) => per_request(client, upstream, delay).await,
        Fault::Pass => pass(client, upstream).await,
    }
}

async fn per_request(client: TcpStream, upstream: &str, delay: Duration) {
    use std::sync::atomic::AtomicBool;
    use tokio::io::AsyncReadExt;
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    let answered = Arc::new(AtomicBool::new(true));
    let waiting = answered.clone();
    let requests = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = client_in.read(&mut buf).await {
            if waiting.swap(false, Ordering::SeqCst) {
                tokio::time::sleep(delay).await;
            }
            if server_out.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    let answers = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = server_in.read(&mut buf).await {
            answered.store(true, Ordering::SeqCst);
            if client_out.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(requests, answers);
}

async fn pass(mut client: TcpStream, upstream: &str) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        let _ = client.shutdown().await;
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
