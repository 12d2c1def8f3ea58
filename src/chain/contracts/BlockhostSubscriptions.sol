// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice The read surface of a Uniswap V2 pair used for pricing.
interface IUniswapV2Pair {
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function token0() external view returns (address);
    function token1() external view returns (address);
}

/// @title BlockhostSubscriptions
/// @notice VM subscriptions priced in USD cents per day, paid in ERC20 tokens. Payment method 1 is
///         the primary stablecoin (priced 1:1); further methods are priced from a Uniswap V2 pair
///         against a stablecoin, with a slippage buffer and a minimum-liquidity guard.
/// @dev The ABI (names, argument types, events, custom errors) matches the original BlockHost
///      contract so existing signup pages and engines interoperate.
contract BlockhostSubscriptions is Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 public constant STABLECOIN_PAYMENT_ID = 1;

    struct Plan {
        string name;
        uint256 pricePerDayUsdCents;
        bool active;
    }

    struct Subscription {
        uint256 planId;
        address subscriber;
        uint256 expiresAt;
        bool cancelled;
    }

    struct PaymentMethod {
        address tokenAddress;
        address pairAddress; // zero for the primary stablecoin
        address stablecoinAddress;
        uint8 tokenDecimals;
        uint8 stablecoinDecimals;
        bool active;
    }

    uint256 public nextPlanId = 1;
    uint256 public nextSubscriptionId = 1;
    uint256 public nextPaymentMethodId = 2;
    uint256 public slippageBps = 100;
    /// @notice Minimum stablecoin reserve of a pricing pair, in 6-decimal units ($10k).
    uint256 public minLiquidityUsd = 10_000 * 1e6;

    mapping(uint256 => Plan) private _plans;
    mapping(uint256 => Subscription) private _subscriptions;
    mapping(uint256 => PaymentMethod) private _paymentMethods;
    uint256[] private _pairPaymentMethodIds;

    event PlanCreated(uint256 indexed planId, string name, uint256 pricePerDayUsdCents);
    event PlanUpdated(uint256 indexed planId, string name, uint256 pricePerDayUsdCents, bool active);
    event SubscriptionCreated(
        uint256 indexed subscriptionId,
        uint256 indexed planId,
        address indexed subscriber,
        uint256 expiresAt,
        uint256 paidAmount,
        address paymentToken,
        bytes userEncrypted
    );
    event SubscriptionExtended(
        uint256 indexed subscriptionId,
        uint256 indexed planId,
        address indexed extendedBy,
        uint256 newExpiresAt,
        uint256 paidAmount,
        address paymentToken
    );
    event SubscriptionCancelled(uint256 indexed subscriptionId, uint256 indexed planId, address indexed subscriber);
    event PrimaryStablecoinSet(address indexed stablecoinAddress, uint8 decimals);
    event PaymentMethodAdded(uint256 indexed paymentMethodId, address tokenAddress, address pairAddress, address stablecoinAddress);
    event PaymentMethodUpdated(uint256 indexed paymentMethodId, bool active);
    event FundsWithdrawn(address indexed token, address indexed to, uint256 amount);
    event SlippageUpdated(uint256 oldSlippageBps, uint256 newSlippageBps);
    event MinLiquidityUpdated(uint256 oldMinLiquidity, uint256 newMinLiquidity);

    error PlanNotFound(uint256 planId);
    error PlanNotActive(uint256 planId);
    error PlanPriceMustBePositive();
    error SubscriptionNotFound(uint256 subscriptionId);
    error SubscriptionAlreadyCancelled(uint256 subscriptionId);
    error PaymentMethodNotFound(uint256 paymentMethodId);
    error PaymentMethodNotActive(uint256 paymentMethodId);
    /// @dev Declared for ABI compatibility with the original, which never raises it either.
    error PrimaryStablecoinNotSet();
    error InvalidAddress();
    error DaysMustBePositive();
    error SlippageTooHigh();
    error NoBalanceToWithdraw();
    error TokenNotInPair();
    error InsufficientLiquidity();

    constructor() Ownable(msg.sender) {}

    // ---------------------------------------------------------------- owner

    /// @notice Set (or replace) payment method 1, the stablecoin accepted at $1 per token.
    function setPrimaryStablecoin(address stablecoinAddress) external onlyOwner {
        if (stablecoinAddress == address(0)) revert InvalidAddress();
        uint8 dec = IERC20Metadata(stablecoinAddress).decimals();
        _paymentMethods[STABLECOIN_PAYMENT_ID] = PaymentMethod(stablecoinAddress, address(0), stablecoinAddress, dec, dec, true);
        emit PrimaryStablecoinSet(stablecoinAddress, dec);
    }

    function createPlan(string calldata name, uint256 pricePerDayUsdCents) external onlyOwner returns (uint256 planId) {
        if (pricePerDayUsdCents == 0) revert PlanPriceMustBePositive();
        planId = nextPlanId++;
        _plans[planId] = Plan(name, pricePerDayUsdCents, true);
        emit PlanCreated(planId, name, pricePerDayUsdCents);
    }

    function updatePlan(uint256 planId, string calldata name, uint256 pricePerDayUsdCents, bool active) external onlyOwner {
        _requirePlan(planId);
        if (pricePerDayUsdCents == 0) revert PlanPriceMustBePositive();
        _plans[planId] = Plan(name, pricePerDayUsdCents, active);
        emit PlanUpdated(planId, name, pricePerDayUsdCents, active);
    }

    /// @notice End a subscription now. Only the owner may cancel; there is no refund.
    function cancelSubscription(uint256 subscriptionId) external onlyOwner {
        Subscription storage sub = _existingSubscription(subscriptionId);
        if (sub.cancelled) revert SubscriptionAlreadyCancelled(subscriptionId);
        sub.cancelled = true;
        sub.expiresAt = block.timestamp;
        emit SubscriptionCancelled(subscriptionId, sub.planId, sub.subscriber);
    }

    /// @notice Accept `tokenAddress`, priced from the Uniswap V2 pair `pairAddress` against `stablecoinAddress`.
    function addPaymentMethod(address tokenAddress, address pairAddress, address stablecoinAddress)
        external
        onlyOwner
        returns (uint256 paymentMethodId)
    {
        if (tokenAddress == address(0) || pairAddress == address(0) || stablecoinAddress == address(0)) revert InvalidAddress();
        address t0 = IUniswapV2Pair(pairAddress).token0();
        address t1 = IUniswapV2Pair(pairAddress).token1();
        bool pairMatches = (t0 == tokenAddress && t1 == stablecoinAddress) || (t1 == tokenAddress && t0 == stablecoinAddress);
        if (!pairMatches) revert TokenNotInPair();
        paymentMethodId = nextPaymentMethodId++;
        _paymentMethods[paymentMethodId] = PaymentMethod(
            tokenAddress,
            pairAddress,
            stablecoinAddress,
            IERC20Metadata(tokenAddress).decimals(),
            IERC20Metadata(stablecoinAddress).decimals(),
            true
        );
        _pairPaymentMethodIds.push(paymentMethodId);
        emit PaymentMethodAdded(paymentMethodId, tokenAddress, pairAddress, stablecoinAddress);
    }

    function updatePaymentMethod(uint256 paymentMethodId, bool active) external onlyOwner {
        _requirePaymentMethod(paymentMethodId);
        _paymentMethods[paymentMethodId].active = active;
        emit PaymentMethodUpdated(paymentMethodId, active);
    }

    /// @notice Send the contract's whole balance of `tokenAddress` to `to`.
    function withdrawFunds(address tokenAddress, address to) external onlyOwner {
        if (to == address(0)) revert InvalidAddress();
        uint256 amount = IERC20(tokenAddress).balanceOf(address(this));
        if (amount == 0) revert NoBalanceToWithdraw();
        IERC20(tokenAddress).safeTransfer(to, amount);
        emit FundsWithdrawn(tokenAddress, to, amount);
    }

    /// @notice Slippage buffer for pair-priced payments, at most 1000 bps (10%).
    function setSlippageBps(uint256 newSlippageBps) external onlyOwner {
        if (newSlippageBps > 1000) revert SlippageTooHigh();
        emit SlippageUpdated(slippageBps, newSlippageBps);
        slippageBps = newSlippageBps;
    }

    function setMinLiquidity(uint256 newMinLiquidity) external onlyOwner {
        emit MinLiquidityUpdated(minLiquidityUsd, newMinLiquidity);
        minLiquidityUsd = newMinLiquidity;
    }

    // --------------------------------------------------------------- public

    /// @notice Pay for `days_` days of plan `planId`. `userEncrypted` is only emitted, never stored.
    function buySubscription(uint256 planId, uint256 days_, uint256 paymentMethodId, bytes calldata userEncrypted)
        external
        nonReentrant
        returns (uint256 subscriptionId)
    {
        _requirePlan(planId);
        if (!_plans[planId].active) revert PlanNotActive(planId);
        (uint256 amount, address token) = _collect(planId, days_, paymentMethodId);
        subscriptionId = nextSubscriptionId++;
        uint256 expiresAt = block.timestamp + days_ * 1 days;
        _subscriptions[subscriptionId] = Subscription(planId, msg.sender, expiresAt, false);
        emit SubscriptionCreated(subscriptionId, planId, msg.sender, expiresAt, amount, token, userEncrypted);
    }

    /// @notice Add `days_` days to a subscription, counted from its expiry or from now if it lapsed.
    ///         Anyone may extend any subscription (gifting).
    function extendSubscription(uint256 subscriptionId, uint256 days_, uint256 paymentMethodId) external nonReentrant {
        Subscription storage sub = _existingSubscription(subscriptionId);
        if (sub.cancelled) revert SubscriptionAlreadyCancelled(subscriptionId);
        if (!_plans[sub.planId].active) revert PlanNotActive(sub.planId);
        (uint256 amount, address token) = _collect(sub.planId, days_, paymentMethodId);
        uint256 from = sub.expiresAt > block.timestamp ? sub.expiresAt : block.timestamp;
        sub.expiresAt = from + days_ * 1 days;
        emit SubscriptionExtended(subscriptionId, sub.planId, msg.sender, sub.expiresAt, amount, token);
    }

    // ---------------------------------------------------------------- views

    /// @notice Whole days left; 0 when expired or cancelled.
    function daysRemaining(uint256 subscriptionId) external view returns (uint256) {
        Subscription storage sub = _existingSubscription(subscriptionId);
        if (sub.cancelled || sub.expiresAt <= block.timestamp) return 0;
        return (sub.expiresAt - block.timestamp) / 1 days;
    }

    function getSubscription(uint256 subscriptionId)
        external
        view
        returns (uint256 planId, address subscriber, uint256 expiresAt, bool isActive, bool cancelled)
    {
        Subscription storage sub = _existingSubscription(subscriptionId);
        return (sub.planId, sub.subscriber, sub.expiresAt, _isActive(sub), sub.cancelled);
    }

    function getPlan(uint256 planId) external view returns (string memory name, uint256 pricePerDayUsdCents, bool active) {
        _requirePlan(planId);
        Plan storage plan = _plans[planId];
        return (plan.name, plan.pricePerDayUsdCents, plan.active);
    }

    /// @notice The primary stablecoin, or the zero address when none is set.
    function getPrimaryStablecoin() external view returns (address) {
        return _paymentMethods[STABLECOIN_PAYMENT_ID].tokenAddress;
    }

    /// @notice Every payment method id: 1 first when a stablecoin is set, then pair-priced ones.
    function getPaymentMethodIds() external view returns (uint256[] memory ids) {
        uint256 offset = _hasStablecoin() ? 1 : 0;
        ids = new uint256[](_pairPaymentMethodIds.length + offset);
        if (offset == 1) ids[0] = STABLECOIN_PAYMENT_ID;
        for (uint256 i = 0; i < _pairPaymentMethodIds.length; i++) ids[i + offset] = _pairPaymentMethodIds[i];
    }

    function getPaymentMethod(uint256 paymentMethodId)
        external
        view
        returns (
            address tokenAddress,
            address pairAddress,
            address stablecoinAddress,
            uint8 tokenDecimals,
            uint8 stablecoinDecimals,
            bool active
        )
    {
        _requirePaymentMethod(paymentMethodId);
        PaymentMethod storage pm = _paymentMethods[paymentMethodId];
        return (pm.tokenAddress, pm.pairAddress, pm.stablecoinAddress, pm.tokenDecimals, pm.stablecoinDecimals, pm.active);
    }

    /// @notice Token amount (base units) that `days_` days of `planId` cost in payment method `paymentMethodId`.
    function calculatePayment(uint256 planId, uint256 days_, uint256 paymentMethodId) external view returns (uint256) {
        _requirePlan(planId);
        _requirePaymentMethod(paymentMethodId);
        return _price(planId, days_, paymentMethodId);
    }

    /// @notice Price of one whole token in USD cents (100 for the primary stablecoin).
    function getTokenPriceUsdCents(uint256 paymentMethodId) external view returns (uint256 priceUsdCents) {
        _requirePaymentMethod(paymentMethodId);
        PaymentMethod storage pm = _paymentMethods[paymentMethodId];
        if (pm.pairAddress == address(0)) return 100;
        (uint256 tokenReserve, uint256 stableReserve) = _reserves(pm);
        if (tokenReserve == 0) revert InsufficientLiquidity();
        return (stableReserve * 100 * 10 ** pm.tokenDecimals) / (tokenReserve * 10 ** pm.stablecoinDecimals);
    }

    function getTotalSubscriptionCount() external view returns (uint256) {
        return nextSubscriptionId - 1;
    }

    function getTotalPlanCount() external view returns (uint256) {
        return nextPlanId - 1;
    }

    /// @notice Ids of every subscription bought by `subscriber` (a linear scan; for off-chain use).
    function getSubscriptionsBySubscriber(address subscriber) external view returns (uint256[] memory ids) {
        uint256 count;
        for (uint256 i = 1; i < nextSubscriptionId; i++) if (_subscriptions[i].subscriber == subscriber) count++;
        ids = new uint256[](count);
        uint256 n;
        for (uint256 i = 1; i < nextSubscriptionId && n < count; i++) if (_subscriptions[i].subscriber == subscriber) ids[n++] = i;
    }

    /// @notice True when the subscription exists, is not cancelled and has not expired.
    function isSubscriptionActive(uint256 subscriptionId) external view returns (bool) {
        if (subscriptionId == 0 || subscriptionId >= nextSubscriptionId) return false;
        return _isActive(_subscriptions[subscriptionId]);
    }

    // ------------------------------------------------------------- internal

    function _isActive(Subscription storage sub) private view returns (bool) {
        return !sub.cancelled && sub.expiresAt > block.timestamp;
    }

    function _hasStablecoin() private view returns (bool) {
        return _paymentMethods[STABLECOIN_PAYMENT_ID].tokenAddress != address(0);
    }

    function _requirePlan(uint256 planId) private view {
        if (planId == 0 || planId >= nextPlanId) revert PlanNotFound(planId);
    }

    function _existingSubscription(uint256 subscriptionId) private view returns (Subscription storage) {
        if (subscriptionId == 0 || subscriptionId >= nextSubscriptionId) revert SubscriptionNotFound(subscriptionId);
        return _subscriptions[subscriptionId];
    }

    function _requirePaymentMethod(uint256 paymentMethodId) private view {
        // Method 1 exists only once a stablecoin is set (the original reverts PaymentMethodNotFound(1) here too).
        bool exists = paymentMethodId == STABLECOIN_PAYMENT_ID ? _hasStablecoin() : paymentMethodId >= 2 && paymentMethodId < nextPaymentMethodId;
        if (!exists) revert PaymentMethodNotFound(paymentMethodId);
    }

    /// @dev Validate days and payment method, price the purchase and pull the tokens from the sender.
    function _collect(uint256 planId, uint256 days_, uint256 paymentMethodId) private returns (uint256 amount, address token) {
        if (days_ == 0) revert DaysMustBePositive();
        _requirePaymentMethod(paymentMethodId);
        PaymentMethod storage pm = _paymentMethods[paymentMethodId];
        if (!pm.active) revert PaymentMethodNotActive(paymentMethodId);
        amount = _price(planId, days_, paymentMethodId);
        token = pm.tokenAddress;
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
    }

    function _price(uint256 planId, uint256 days_, uint256 paymentMethodId) private view returns (uint256 amount) {
        PaymentMethod storage pm = _paymentMethods[paymentMethodId];
        uint256 cents = _plans[planId].pricePerDayUsdCents * days_;
        uint256 stableUnits = (cents * 10 ** pm.stablecoinDecimals) / 100;
        if (pm.pairAddress == address(0)) return stableUnits;

        (uint256 tokenReserve, uint256 stableReserve) = _reserves(pm);
        uint256 normalised = pm.stablecoinDecimals >= 6
            ? stableReserve / 10 ** (pm.stablecoinDecimals - 6)
            : stableReserve * 10 ** (6 - pm.stablecoinDecimals);
        if (normalised < minLiquidityUsd || stableReserve == 0) revert InsufficientLiquidity();
        amount = (stableUnits * tokenReserve) / stableReserve;
        amount += (amount * slippageBps) / 10_000;
    }

    function _reserves(PaymentMethod storage pm) private view returns (uint256 tokenReserve, uint256 stableReserve) {
        IUniswapV2Pair pair = IUniswapV2Pair(pm.pairAddress);
        (uint112 r0, uint112 r1,) = pair.getReserves();
        (tokenReserve, stableReserve) = pair.token0() == pm.tokenAddress ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
    }
}
