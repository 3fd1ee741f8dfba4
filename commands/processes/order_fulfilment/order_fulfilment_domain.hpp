#pragma once

// The order fulfilment saga's entry in the processes catalog (processes_catalog.cpp): the saga
// with its payment deadline (CQRS_ORDER_PAYMENT_TIMEOUT), the order and payment aggregates it
// commands, and its effects with the card processor's client (CQRS_PAYMENT_PROVIDER_*, the
// resilience instance payment_provider), whose metrics join the processes' metrics file.

#include <vector>

#include "commands/processes/processes_catalog.hpp"
#include "core/config.hpp"
#include "core/log.hpp"

namespace cqrs::commands::processes::order_fulfilment {

void add_order_fulfilment(process_catalog& catalog, const core::settings_source& source, const core::logger& log);

std::vector<core::setting_spec> order_fulfilment_settings();

}  // namespace cqrs::commands::processes::order_fulfilment
