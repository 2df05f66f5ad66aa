//! The chain of jobs that turns a paid (or approved) order into a working site: create the site
//! (or the client's account, where the server's sites are accounts) -> create the client's own
//! user with the role "manager" -> push the quotas -> send the welcome mail -> grant the support
//! tier's access. The chain starts once: only an order still waiting (for payment or approval)
//! starts it, in the transaction that moves the order to `provisioning`.

use hostdesk_store::orders as store_orders;
use hostdesk_store::servers as store_servers;
use hostdesk_store::{clients, subscriptions, Connection};
use serde_json::json;

use hostdesk_remote::Operation;
use hostdesk_store::jobs as store_jobs;

use crate::provisioning::{can_run, capabilities, queue_site_action, SiteAction, SITE_CREATE_USER};
use crate::{Ctx, Result};

/// The role of the client's own user on its site: never user 1, never the hosting system.
pub const MANAGER_ROLE: &str = "manager";

/// The role of a demo package's group on the shared site.
pub const DEMO_ROLE: &str = "demo";

/// Queues the order's provisioning jobs and makes its subscription active. Returns the job ids.
pub(crate) fn start(tx: &Connection, ctx: &Ctx, order_id: i64) -> Result<Vec<i64>> {
    let order = store_orders::get(tx, order_id)?;
    if !matches!(
        order.state.as_str(),
        "awaiting_payment" | "awaiting_approval" | "payment_failed"
    ) {
        // Already started (or cancelled): nothing to do.
        return Ok(Vec::new());
    }
    let client = clients::get(tx, order.client_id)?;
    let mut ids = Vec::new();
    let shared = match order.site_id {
        Some(site_id) => {
            store_servers::get_site(tx, site_id)?.subscription_id != order.subscription_id
        }
        None => false,
    };
    if let (true, Some(site_id)) = (shared, order.site_id) {
        // A demo package: the client's account with the role `demo` on the shared site.
        let site = store_servers::get_site(tx, site_id)?;
        let user = SiteAction::CreateUser {
            email: client.email.clone(),
            name: client.name.clone(),
            role: Some(DEMO_ROLE.into()),
        };
        let created = queue_site_action(tx, ctx, site.id, &user)?;
        store_jobs::set_subscription(tx, created, order.subscription_id)?;
        ids.push(created);
        ids.push(crate::notify::welcome(
            tx,
            ctx,
            order.subscription_id,
            site_id,
            vec![created],
        )?);
        ids.extend(crate::access::plan_grants_after(
            tx,
            order.subscription_id,
            &ctx.at,
            &[created],
        )?);
    } else if let Some(site_id) = order.site_id {
        let site = store_servers::get_site(tx, site_id)?;
        let kind = site.server_kind.clone().unwrap_or_default();
        // The domain first (registered + its zone, or an owned one verified), then the site.
        ids.extend(crate::domains::plan_before_site(
            tx, ctx, order.id, site_id,
        )?);
        // Each site job runs after the site's earlier unfinished ones.
        let created = queue_site_action(tx, ctx, site_id, &SiteAction::Create)?;
        ids.push(created);
        let caps = capabilities(&kind);
        if !caps.supports(Operation::CreateUser) && caps.supports(Operation::OwnerOnCreate) {
            // The server makes the client's user with the site (Aegir's handover).
            store_jobs::set_payload_field(
                tx,
                created,
                "owner",
                &json!({ "email": client.email, "name": client.name }),
            )?;
        }
        if can_run(&kind, SITE_CREATE_USER) {
            let user = SiteAction::CreateUser {
                email: client.email.clone(),
                name: client.name.clone(),
                role: Some(MANAGER_ROLE.into()),
            };
            ids.push(queue_site_action(tx, ctx, site_id, &user)?);
        }
        // The disk and bandwidth quotas, where the server enforces them (recorded as pushed).
        ids.extend(crate::usage::quota::push_limits(
            tx,
            ctx,
            order.subscription_id,
        )?);
        let site_jobs = ids.clone();
        ids.push(crate::notify::welcome(
            tx,
            ctx,
            order.subscription_id,
            site_id,
            site_jobs.clone(),
        )?);
        // The certificate the subscription bought, once the site exists.
        ids.extend(crate::domains::plan_ssl(tx, ctx, site_id)?);
        // The support tier's access, once the client's account exists.
        ids.extend(crate::access::plan_grants_after(
            tx,
            order.subscription_id,
            &ctx.at,
            &site_jobs,
        )?);
    } else {
        ids.extend(crate::access::plan_grants_after(
            tx,
            order.subscription_id,
            &ctx.at,
            &[],
        )?);
    }
    subscriptions::set_state(tx, order.subscription_id, "active", &ctx.at)?;
    store_orders::set_state(tx, order.id, "provisioning", None, &ctx.at)?;
    ctx.audit(
        tx,
        "order",
        Some(order.id),
        "provision",
        Some(&order.state),
        Some(&json!({ "jobs": ids })),
    )?;
    Ok(ids)
}
