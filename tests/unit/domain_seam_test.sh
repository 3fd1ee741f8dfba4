#!/usr/bin/env bash
# The domain seam holds: outside a domain's own folders (<layer>/<domain>/) and the per-layer
# lists of domains, no engine code names a domain: no include of a domain's header, no
# <domain>:: namespace, no <domain>_ identifier, no "<domain>..." string literal. Comments are not
# code and are skipped. A domain is a folder of schemas/contracts/ (every domain has contracts).
# Tests, benchmarks, migrations and documents are not engine machinery and are not checked.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1

# The lists: one line per domain each.
lists=(
  schemas/contracts/catalog.cpp
  commands/domains.cpp
  projections/catalog.cpp
  gateway/domains.cpp
  commands/processes/processes_catalog.cpp
)

domains=()
for dir in schemas/contracts/*/; do
  name=$(basename "$dir")
  [ "$name" = detail ] && continue
  domains+=("$name")
done
if [ ${#domains[@]} -eq 0 ]; then
  echo "no domain folder found under schemas/contracts/" >&2
  exit 1
fi
alternatives=$(IFS='|'; echo "${domains[*]}")
# Names of external dependencies that merely start like a domain (the resilience instance of the
# card processor, core/resilience/config.cpp) are not domain names: they are blanked before matching.
external_names='payment_provider'

# An include of a domain's header, a domain namespace, an identifier or a string literal.
pattern="(/|::)($alternatives)(/|::)|\\b($alternatives)_[A-Za-z0-9]|\"($alternatives)([\"_.-]|$)"

is_listed() {
  local file=$1 list
  for list in "${lists[@]}"; do [ "$file" = "$list" ] && return 0; done
  return 1
}

in_domain_folder() {
  local file=$1 domain
  for domain in "${domains[@]}"; do
    case "/$file" in */"$domain"/*) return 0 ;; esac
    # A domain's process manager: a folder named <domain>_<process> (commands/processes/order_fulfilment/).
    case "/$file" in */"$domain"_*/*) return 0 ;; esac
  done
  return 1
}

found=0
checked=0
while IFS= read -r file; do
  in_domain_folder "$file" && continue
  checked=$((checked + 1))
  # Line comments and the lines of block comments (" * ..." / "/* ...") are skipped.
  hits=$(sed -E 's#//.*$##; s#^[[:space:]]*(/\*|\*).*$##' "$file" | sed -E "s#\\b($external_names)##g" | grep -nE "$pattern")
  [ -z "$hits" ] && continue
  if is_listed "$file"; then
    # A list names each domain on one line of registration only: more than one line per domain
    # means machinery crept into the list.
    count=$(wc -l <<<"$hits")
    [ "$count" -le $((2 * ${#domains[@]})) ] && continue
  fi
  found=$((found + 1))
  while IFS= read -r hit; do echo "$file:$hit"; done <<<"$hits"
done < <(find core schemas/contracts commands projections gateway tools/cli tools/kafka_broker \
           -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)

if [ "$checked" -lt 20 ]; then
  echo "only $checked files were checked: the tree is not where this script expects it" >&2
  exit 1
fi
if [ "$found" -ne 0 ]; then
  echo "$found file(s) outside the domain folders name a domain (domains: ${domains[*]})" >&2
  exit 1
fi
echo "domain seam holds: $checked files checked, domains: ${domains[*]}"
