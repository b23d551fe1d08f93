// Int8Network::prepare refuses a model whose int32 arithmetic could overflow (a damaged or
// hostile file that check_model accepts): a Status, never undefined behaviour in a kernel.
// The fuzz target found one (fuzz/regressions/tkws/crash-ca251c3d...): a multiplier near 2^31
// made out_zp + requantised accumulator overflow.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "int8_test_util.h"
#include "tinykws/runtime/int8_network.h"

namespace tkws {
namespace {

TEST(Int8NetworkLimits, RefusesScalesWhoseRequantisationOverflowsInt32) {
  const Model q = int8_testing::int8_fixture();
  Model bad = q;
  // The first conv's channel 2: weight (and so bias) scale x 1e9, M = s_in * s_w / s_out ~ 1e7.
  for (int t : {0, 1}) {
    Tensor& w = bad.tensors[bad.ops[0].tensors[t]];
    ASSERT_GT(w.quant.scale.size(), 2u);
    w.quant.scale[2] *= 1e9f;
  }
  ASSERT_EQ(check_model(bad), "");
  for (bool reference : {false, true}) {
    Int8NetworkOptions opt;
    opt.reference = reference;
    Int8Network net;
    EXPECT_TRUE(net.prepare(q, opt).ok());
    const Status st = net.prepare(bad, opt);
    EXPECT_EQ(st.code, StatusCode::kUnsupported);
    EXPECT_NE(std::string(st.message).find("channel 2's requantised outputs may overflow int32"),
              std::string::npos)
        << st.message;
  }
}

}  // namespace
}  // namespace tkws
