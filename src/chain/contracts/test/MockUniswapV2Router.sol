// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice TEST ONLY: a Uniswap V2 router that swaps any token for ETH at a fixed rate
///         (wei per token base unit) out of its own ETH balance.
contract MockUniswapV2Router {
    address public immutable WETH;
    uint256 public immutable weiPerUnit;

    constructor(address weth_, uint256 weiPerUnit_) payable {
        WETH = weth_;
        weiPerUnit = weiPerUnit_;
    }

    receive() external payable {}

    function getAmountsOut(uint256 amountIn, address[] calldata path) public view returns (uint256[] memory amounts) {
        require(path.length == 2 && path[1] == WETH, "path");
        amounts = new uint256[](2);
        amounts[0] = amountIn;
        amounts[1] = amountIn * weiPerUnit;
    }

    function swapExactTokensForETH(uint256 amountIn, uint256 amountOutMin, address[] calldata path, address to, uint256 deadline)
        external
        returns (uint256[] memory amounts)
    {
        require(block.timestamp <= deadline, "EXPIRED");
        amounts = getAmountsOut(amountIn, path);
        require(amounts[1] >= amountOutMin, "INSUFFICIENT_OUTPUT_AMOUNT");
        require(IERC20(path[0]).transferFrom(msg.sender, address(this), amountIn), "transferFrom");
        (bool ok,) = to.call{value: amounts[1]}("");
        require(ok, "ETH transfer");
    }
}
