//! The generated TypeScript bindings (ui/src/bindings.ts) come from these commands' Rust
//! signatures. `UPDATE_BINDINGS=1 cargo test -p hostdesk-desktop bindings` rewrites the file;
//! the same test fails when the committed file is stale.

use crate::commands::*;
use crate::orders_commands::*;

pub fn builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .events(tauri_specta::collect_events![crate::queue::JobsChanged])
        .commands(tauri_specta::collect_commands![
            get_status,
            get_subscriptions_by_product,
            load_demo,
            query_clients,
            search_clients,
            get_client,
            check_client,
            add_client,
            update_client,
            add_contact,
            import_clients_csv,
            get_catalog,
            check_product,
            add_product,
            retire_product,
            get_queue,
            list_jobs,
            get_job,
            retry_job,
            cancel_job,
            run_bill,
            cancel_bill_run,
            list_invoices,
            get_invoice,
            void_invoice,
            record_payment,
            save_invoice_pdf,
            list_servers,
            add_server,
            edit_server,
            test_server,
            sync_server,
            site_action,
            list_outbox,
            get_outbox_mail,
            retry_outbox_mail,
            get_mail_settings,
            save_mail_settings,
            send_test_mail,
            quote_order,
            check_order_domain,
            place_order,
            list_orders,
            get_order,
            approve_order,
            list_payment_methods,
            charge_invoice,
            change_subscription,
            cancel_subscription,
            list_dunning,
            run_dunning,
            get_dunning_policy,
            set_dunning_policy,
            get_clock,
            advance_clock,
            reset_clock,
        ])
}

#[cfg(test)]
mod tests {
    use specta_typescript::{BigIntExportBehavior, Typescript};

    const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/bindings.ts");

    #[test]
    fn bindings_are_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        let ts = Typescript::default()
            // i64 ids and minor units stay below 2^53 in practice; JS numbers carry them.
            .bigint(BigIntExportBehavior::Number)
            .header(
                "// Generated from the Rust commands by tauri-specta. Do not edit.\n// @ts-nocheck",
            );
        super::builder()
            .export(ts, &fresh)
            .expect("export bindings");
        let fresh = std::fs::read_to_string(&fresh).unwrap();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(COMMITTED, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/bindings.ts is stale: run `make bindings` and commit the result"
        );
    }
}
