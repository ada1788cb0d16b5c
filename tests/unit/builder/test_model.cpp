#include "builder/model.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

TEST_CASE("kinds and forms have Docker's names")
{
  CHECK(kind_name(StepKind::healthcheck) == "HEALTHCHECK");
  CHECK(kind_name(StepKind::stopsignal) == "STOPSIGNAL");
  CHECK(form_name(Form::exec) == "exec");
  CHECK(form_name(Form::none) == "none");
}

TEST_CASE("flag and mount lookups find the first occurrence or nothing")
{
  Step step;
  step.flags = {{"exclude", "a"}, {"exclude", "b"}, {"from", "x"}};
  CHECK(step.flag("exclude") == "a");
  CHECK(step.flag("from") == "x");
  CHECK(!step.flag("chown"));
  Mount mount;
  mount.options = {{"type", "cache"}, {"target", "/c"}};
  CHECK(mount.get("target") == "/c");
  CHECK(!mount.get("source"));
}

TEST_CASE("a diagnostic without a line names only the file")
{
  Diagnostic d{Severity::warning, "Containerfile", 0, 0, "build-arg X was not consumed by any ARG"};
  CHECK(d.format() == "Containerfile: warning: build-arg X was not consumed by any ARG");
}
