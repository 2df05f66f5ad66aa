//! The generated TypeScript bindings (ui/src/bindings.ts) come from these commands' Rust
//! signatures. `UPDATE_BINDINGS=1 cargo test -p hostdesk-desktop bindings` rewrites the file;
//! the same test fails when the committed file is stale.

use crate::commands::*;
use crate::domain_commands::*;
use crate::lifecycle_commands::*;
use crate::orders_commands::*;
use crate::usage_commands::*;

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
            create_credit_note,
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
            get_client_usage,
            get_usage_history,
            get_usage_fleet,
            collect_usage,
            set_quota,
            dismiss_usage_alert,
            list_usage_alerts,
            get_backup_panel,
            back_up_site,
            restore_backup,
            prune_backups,
            get_backup_policies,
            set_backup_policy,
            list_expiring,
            run_expire_check,
            convert_subscription,
            set_subscription_term,
            get_term_policy,
            set_term_policy,
            set_trial_days,
            check_domains,
            register_domain,
            list_domains,
            get_site_tls,
            verify_domain,
            set_site_ssl,
            upload_ssl_bundle,
            check_site_certificate,
            list_expiring_domains,
            get_domain_settings,
            set_registrar_settings,
            set_dns_settings,
            set_acme_settings,
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
