#pragma once

// Every `kiln` subcommand: its name, one-line summary, usage text and entry
// point. Each lives in cli/cmd_<name>.cpp; main.cpp lists them.

#include <span>
#include <string>
#include <string_view>

namespace kiln::cli {

struct Command
{
  std::string_view name;
  std::string_view summary;
  std::string_view help; // full usage text printed by `kiln NAME --help`
  int (*run)(std::string_view name, std::span<const std::string> args);
};

std::span<const Command> commands();

// Prints a command's help when args ask for it; returns true if it did.
bool print_help_if_asked(std::string_view name, std::span<const std::string> args);

int cmd_version(std::string_view name, std::span<const std::string> args);
int cmd_inspect(std::string_view name, std::span<const std::string> args);
int cmd_fsck(std::string_view name, std::span<const std::string> args);
int cmd_build(std::string_view name, std::span<const std::string> args);
int cmd_import(std::string_view name, std::span<const std::string> args);
int cmd_copy(std::string_view name, std::span<const std::string> args);
int cmd_db(std::string_view name, std::span<const std::string> args);
int cmd_keygen(std::string_view name, std::span<const std::string> args);
int cmd_sign(std::string_view name, std::span<const std::string> args);
int cmd_attest(std::string_view name, std::span<const std::string> args);
int cmd_verify(std::string_view name, std::span<const std::string> args);
int cmd_verify_attestation(std::string_view name, std::span<const std::string> args);
int cmd_parse(std::string_view name, std::span<const std::string> args);
int cmd_run(std::string_view name, std::span<const std::string> args);
int cmd_layer(std::string_view name, std::span<const std::string> args);
int cmd_unpack(std::string_view name, std::span<const std::string> args);
int cmd_scan(std::string_view name, std::span<const std::string> args);
int cmd_cache(std::string_view name, std::span<const std::string> args);

} // namespace kiln::cli
