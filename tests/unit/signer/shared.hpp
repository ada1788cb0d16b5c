#pragma once

// Access to ../shared (the workplace's shared fixtures) for signer tests.
// Tests that need it report a skip message when it is absent.

#include <filesystem>
#include <string>

#include "base/fileio.hpp"

inline std::filesystem::path shared_dir()
{
  return std::filesystem::path(KILN_SOURCE_ROOT) / ".." / "shared";
}

inline kiln::Result<std::string> read_shared(const std::string& relative)
{
  return kiln::read_file(shared_dir() / relative);
}
