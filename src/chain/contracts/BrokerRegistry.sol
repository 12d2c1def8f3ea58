// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BrokerRegistry
/// @notice The list of IPv6 tunnel brokers hosts pick from. ABI-compatible with the original
///         blockhost-broker registry: the owner registers brokers, operators manage their entry.
contract BrokerRegistry is Ownable {
    struct Broker {
        address operator;
        address requestsContract;
        bytes encryptionPubkey; // uncompressed secp256k1 (65 bytes): hosts encrypt their request to it
        string region;
        bool active;
        uint256 registeredAt;
    }

    Broker[] public brokers;
    /// @notice 1-based broker id of an operator (0: none).
    mapping(address => uint256) public operatorToBrokerId;
    /// @notice 1-based broker id of a requests contract (0: none).
    mapping(address => uint256) public requestsContractToBrokerId;

    event BrokerRegistered(uint256 indexed brokerId, address indexed operator, address requestsContract, string region);
    event BrokerUpdated(uint256 indexed brokerId, address indexed operator);
    event BrokerDeactivated(uint256 indexed brokerId, address indexed operator);
    event BrokerActivated(uint256 indexed brokerId, address indexed operator);

    constructor() Ownable(msg.sender) {}

    function registerBroker(
        address operator,
        address requestsContract,
        bytes calldata encryptionPubkey,
        string calldata region
    ) external onlyOwner returns (uint256 brokerId) {
        require(operator != address(0), "operator is the zero address");
        require(requestsContract != address(0), "requests contract is the zero address");
        require(encryptionPubkey.length == 65, "encryption key must be 65 bytes");
        require(requestsContractToBrokerId[requestsContract] == 0, "requests contract already registered");
        uint256 previous = operatorToBrokerId[operator];
        if (previous != 0) {
            // An operator has one live entry: the old one stops taking requests.
            Broker storage old = brokers[previous - 1];
            old.active = false;
            delete requestsContractToBrokerId[old.requestsContract];
            emit BrokerDeactivated(previous, operator);
        }
        brokers.push(Broker(operator, requestsContract, encryptionPubkey, region, true, block.timestamp));
        brokerId = brokers.length;
        operatorToBrokerId[operator] = brokerId;
        requestsContractToBrokerId[requestsContract] = brokerId;
        emit BrokerRegistered(brokerId, operator, requestsContract, region);
    }

    function updateEncryptionPubkey(bytes calldata encryptionPubkey) external {
        uint256 id = _callerId();
        require(encryptionPubkey.length == 65, "encryption key must be 65 bytes");
        brokers[id - 1].encryptionPubkey = encryptionPubkey;
        emit BrokerUpdated(id, msg.sender);
    }

    function updateRegion(string calldata region) external {
        uint256 id = _callerId();
        require(bytes(region).length != 0, "empty region");
        brokers[id - 1].region = region;
        emit BrokerUpdated(id, msg.sender);
    }

    function deactivate() external {
        uint256 id = _callerId();
        brokers[id - 1].active = false;
        emit BrokerDeactivated(id, msg.sender);
    }

    function activate() external {
        uint256 id = _callerId();
        brokers[id - 1].active = true;
        emit BrokerActivated(id, msg.sender);
    }

    function getBroker(uint256 brokerId) external view returns (Broker memory) {
        require(brokerId != 0 && brokerId <= brokers.length, "no such broker");
        return brokers[brokerId - 1];
    }

    function getBrokerCount() external view returns (uint256) {
        return brokers.length;
    }

    function isOperator(address operator) external view returns (bool) {
        return operatorToBrokerId[operator] != 0;
    }

    /// @notice Owner's removal of a misbehaving broker; its id stays taken so ids never shift.
    function removeBroker(uint256 brokerId) external onlyOwner {
        require(brokerId != 0 && brokerId <= brokers.length, "no such broker");
        Broker storage b = brokers[brokerId - 1];
        delete operatorToBrokerId[b.operator];
        delete requestsContractToBrokerId[b.requestsContract];
        b.active = false;
        b.operator = address(0);
        emit BrokerDeactivated(brokerId, msg.sender);
    }

    function _callerId() private view returns (uint256 id) {
        id = operatorToBrokerId[msg.sender];
        require(id != 0, "caller is not a broker operator");
    }
}
