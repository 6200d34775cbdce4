# bash completion for konnect-pats (lua-konnect).
# Installed by `make install` into share/bash-completion/completions/, and by
# the rock into its completion/ directory; to use it by hand:
#   source completion/konnect-pats.bash
# Completes commands, options (the global ones and each command's own),
# the values of --old, --state (list's or prune's), --sort, -o/--output,
# --active and the ages, and file names after the PATH options.
# It never runs konnect-pats or reads a token.  The commands and options are
# konnect.cli.options's (spec/cli_spec.lua holds this file to that table).

# COMPREPLY = the words of $1 that start with $2
_konnect_pats_reply() {
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_konnect_pats() {
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    local commands="whoami list get create rename revoke delete rotate find prune users system-accounts audit help"
    local global="--json --verbose -v --server --ca-file --timeout --token-file --proxy-from-env --help -h --version"

    # the command: the first word that is not an option or an option's value
    local i cmd="" w
    for (( i=1; i < COMP_CWORD; i++ )); do
        w=${COMP_WORDS[i]}
        case $w in
            --server|--ca-file|--timeout|--token-file|--secret-file|--name|--ttl|--expires-at|--user|--state|--older-than|--old|--expiring-within|--sort|--output|-o|--system-account|--email|--full-name|--active|--name-contains|--unused-for)
                (( i++ )) ;;
            -*) ;;
            *) cmd=$w; break ;;
        esac
    done

    case $prev in
        --token-file|--ca-file|--secret-file)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0 ;;
        --old)
            if [[ " ${COMP_WORDS[*]} " == *" --system-account "* ]]; then
                _konnect_pats_reply "delete keep" "$cur"
            else
                _konnect_pats_reply "delete revoke keep" "$cur"
            fi
            return 0 ;;
        --active)
            _konnect_pats_reply "true false" "$cur"
            return 0 ;;
        --state)
            if [[ $cmd == list ]]; then
                _konnect_pats_reply "active revoked expired active,expired" "$cur"
            else
                _konnect_pats_reply "revoked expired revoked,expired" "$cur"
            fi
            return 0 ;;
        --sort)
            _konnect_pats_reply "expires name created" "$cur"
            return 0 ;;
        --output|-o)
            _konnect_pats_reply "env" "$cur"
            return 0 ;;
        --user)
            _konnect_pats_reply "me" "$cur"
            return 0 ;;
        --ttl|--older-than|--expiring-within|--unused-for)
            _konnect_pats_reply "1d 7d 30d 90d 1y" "$cur"
            return 0 ;;
        --server|--timeout|--name|--expires-at|--system-account|--email|--full-name|--name-contains)
            return 0 ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            _konnect_pats_reply "$global" "$cur"
        else
            _konnect_pats_reply "$commands" "$cur"
        fi
        return 0
    fi

    local own="" who="--user --system-account"
    case $cmd in
        whoami) own="" ;;
        list) own="$who --state --expiring-within --sort" ;;
        get|rename|find) own="$who" ;;
        revoke) own="--user" ;;
        delete) own="$who --yes -y" ;;
        create) own="$who --name --ttl --expires-at --secret-file --force --output -o --force-tty" ;;
        rotate) own="$who --old --name --ttl --secret-file --force --output -o --force-tty" ;;
        prune) own="$who --state --older-than --dry-run --yes -y" ;;
        users) own="--email --full-name --active" ;;
        system-accounts) own="--name --name-contains" ;;
        audit) own="--expiring-within --unused-for --csv" ;;
        help) _konnect_pats_reply "$commands" "$cur"; return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        _konnect_pats_reply "$own $global" "$cur"
    fi
    return 0
}

complete -F _konnect_pats konnect-pats
