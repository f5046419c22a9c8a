//! The HTTP/1.1 accept loop: bounded connections and timed-out headers, so that half-sent
//! requests (slowloris) cannot take the server's file descriptors. Written on hyper's
//! connection builder because `axum::serve` offers neither a header timeout nor a cap.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};

/// How many connections the server holds open, and for how long it waits for headers.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request's headers (and an idle keep-alive connection's next request) must arrive
    /// within this time, or the connection is closed.
    pub header_timeout: Duration,
    /// Open connections at most; more are closed at once.
    pub max_connections: usize,
    /// Open connections at most from one client address (0: no such limit), so that one
    /// client cannot take every slot.
    pub max_connections_per_client: usize,
    /// How long a shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

/// The open connections, in all and per client address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// One slot of `Open`, given back when the connection ends.
struct Slot {
    open: Arc<Mutex<Open>>,
    client: IpAddr,
}

impl Slot {
    /// A slot for `client`, or `None` when a limit is reached.
    fn take(open: &Arc<Mutex<Open>>, client: IpAddr, limits: &ConnectionLimits) -> Option<Self> {
        let mut o = open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = o.per_client.get(&client).copied().unwrap_or(0);
        let per_client_full =
            limits.max_connections_per_client > 0 && mine >= limits.max_connections_per_client;
        if o.total >= limits.max_connections || per_client_full {
            return None;
        }
        o.total += 1;
        *o.per_client.entry(client).or_insert(0) += 1;
        Some(Self {
            open: Arc::clone(open),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.per_client.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                o.per_client.remove(&self.client);
            }
        }
    }
}

/// Serves `router` on `listener` until `stop` turns true, then lets requests in flight end
/// (at most `shutdown_grace`).
///
/// # Errors
/// None in practice: a failed accept (such as running out of file descriptors) is logged
/// and retried after a pause.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let accepted = tokio::select! {
            // An error means the sender is gone: stop as well.
            _ = stop.wait_for(|s| *s) => None,
            accepted = listener.accept() => Some(accepted),
        };
        let (stream, peer) = match accepted {
            None => break,
            Some(Ok(accepted)) => accepted,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&open, peer.ip(), &limits) else {
            // Closed at once: a full server answers nothing rather than queue the client.
            drop(stream);
            continue;
        };
        // Responses are written whole; waiting for more to coalesce only adds latency.
        let _ = stream.set_nodelay(true);
        // The client's address travels with each request as axum's `ConnectInfo`.
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        );
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            // A connection error (a client that went away, a header timeout) ends only it.
            let _ = watched.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight at shutdown were cut off");
    }
    Ok(())
}
