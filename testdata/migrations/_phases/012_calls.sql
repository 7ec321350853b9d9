-- A call runs the body of a function defined earlier: here, contract.
-- file-class: contract
SELECT cleanup(); -- class: contract
